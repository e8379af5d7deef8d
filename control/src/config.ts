import { databaseUrlFromEnv } from "@nexus/drizzle";
import { deriveJoinSecret } from "@nexus/platform/join-token";
import {
  type RecordingStorageSettings,
  recordingStorageFromEnv,
} from "@nexus/platform/recording-storage-config";
import { JOIN_TOKEN_AUDIENCE } from "@nexus/shared/tokens";
import * as v from "valibot";

/** The secret a fresh checkout runs with; production refuses it so nobody ships it by accident. */
export const DEV_JWT_SECRET = "nexus-dev-secret-change-me";

const int = (min: number, max: number) =>
  v.pipe(v.string(), v.trim(), v.digits(), v.transform(Number), v.number(), v.minValue(min), v.maxValue(max));
const nonEmpty = v.pipe(v.string(), v.trim(), v.minLength(1));
const url = v.pipe(v.string(), v.trim(), v.url());

const EnvSchema = v.object({
  NODE_ENV: v.optional(v.picklist(["development", "production", "test"]), "development"),
  PORT: v.optional(int(0, 65_535), "8095"),
  HOST: v.optional(nonEmpty, "0.0.0.0"),
  JWT_SECRET: v.optional(nonEmpty),
  JWKS_URL: v.optional(url),
  JWT_ISSUER: v.optional(nonEmpty),
  JWT_AUDIENCE: v.optional(nonEmpty),
  JWT_CLAIM_TENANT: v.optional(nonEmpty, "tenant_id"),
  JWT_CLAIM_ROLE: v.optional(nonEmpty, "role"),
  JWT_CLAIM_NAME: v.optional(nonEmpty, "name"),
  JOIN_TOKEN_SECRET: v.optional(nonEmpty),
  JOIN_TOKEN_TTL_SECONDS: v.optional(int(5, 3600), "60"),
  CORS_ORIGINS: v.optional(v.string(), "*"),
  LOG_LEVEL: v.optional(v.picklist(["trace", "debug", "info", "warn", "error", "fatal", "silent"]), "info"),
  LOG_DIR: v.optional(v.string(), "logs"),
  BODY_LIMIT_BYTES: v.optional(int(1024, 10 * 1024 * 1024), "65536"),
  MAX_OPEN_MEETINGS_PER_USER: v.optional(int(1, 1_000_000), "200"),
  HOST_MAX_AGE_MS: v.optional(int(1000, 3_600_000), "15000"),
  /** How long a placement holds without the owner refreshing it; a dead owner is replaced sooner (liveness). */
  MEETING_CLAIM_TTL_MS: v.optional(int(10_000, 7 * 86_400_000), "21600000"),
  HEALTH_TIMEOUT_MS: v.optional(int(50, 30_000), "1000"),
  REDIS_URL: v.optional(v.pipe(nonEmpty, v.regex(/^rediss?:\/\//, "must be a redis:// URL"))),
  REDIS_HOST: v.optional(nonEmpty),
  REDIS_PORT: v.optional(int(1, 65_535), "6379"),
  REDIS_PASSWORD: v.optional(v.string()),
  PUBLIC_URL: v.optional(v.pipe(url, v.regex(/^https?:\/\//, "must be an http(s) URL"))),
  INVITE_ORGANIZER_EMAIL: v.optional(v.pipe(nonEmpty, v.email()), "noreply@nexus-meet.invalid"),
  WEBHOOK_DISPATCH: v.optional(v.picklist(["0", "1"]), "1"),
  WEBHOOK_ALLOW_PRIVATE: v.optional(v.picklist(["0", "1"])),
  WEBHOOK_RETENTION_DAYS: v.optional(int(1, 3650), "30"),
  WEBHOOK_POLL_MS: v.optional(int(10, 60_000), "1000"),
  WEBHOOK_TIMEOUT_MS: v.optional(int(100, 60_000), "10000"),
  WEBHOOK_CONCURRENCY: v.optional(int(1, 256), "8"),
  WEBHOOK_RETRY_BASE_MS: v.optional(int(10, 3_600_000), "1000"),
  WEBHOOK_RETRY_MAX_MS: v.optional(int(10, 86_400_000), "600000"),
  WEBHOOK_RETRY_FOR_SECONDS: v.optional(int(1, 30 * 86_400), "86400"),
  /** coturn's static-auth-secret; with TURN_URLS, every join answer carries short-lived TURN credentials. */
  TURN_SECRET: v.optional(nonEmpty),
  /** Comma-separated turn:/turns:/stun: URLs, as RTCPeerConnection takes them. */
  TURN_URLS: v.optional(
    v.pipe(
      v.string(),
      v.transform((s) =>
        s
          .split(",")
          .map((u) => u.trim())
          .filter(Boolean),
      ),
      v.array(v.pipe(v.string(), v.regex(/^(turns?|stuns?):[^\s]+$/, "must be turn:, turns: or stun: URLs"))),
      v.minLength(1, "needs at least one URL"),
    ),
  ),
  TURN_TTL_SECONDS: v.optional(int(60, 7 * 86_400), "43200"),
});

export interface ControlConfig {
  nodeEnv: "development" | "production" | "test";
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string | null;
  auth: {
    /** Exactly one of secret / jwksUrl decides the mode; with JWKS the secret is not used for users. */
    secret: string | null;
    jwksUrl: string | null;
    issuer: string | null;
    audience: string | null;
    claims: { tenant: string; role: string; name: string };
  };
  joinToken: { secret: string; ttlSeconds: number };
  corsOrigins: string[];
  logLevel: string;
  logDir: string | null;
  bodyLimitBytes: number;
  /** Meetings not yet ended one user may have created in a tenant; past it creation is refused. */
  maxOpenMeetingsPerUser: number;
  hostMaxAgeMs: number;
  meetingClaimTtlMs: number;
  healthTimeoutMs: number;
  /** Where recordings are read from for download (RECORDINGS_DIR, RECORDINGS_STORAGE, RECORDINGS_S3_*). */
  recordingStorage: RecordingStorageSettings;
  /** null: no TURN, join answers carry no ice_servers. */
  turn: { secret: string; urls: string[]; ttlSeconds: number } | null;
  webhooks: WebhookDispatchConfig;
  invitations: {
    /** The web client's address in invitation links; null: the address the request came to. */
    publicUrl: string | null;
    organizerEmail: string;
  };
}

/** The outbox dispatcher (see services/webhook-dispatcher.ts). */
export interface WebhookDispatchConfig {
  /** Run the dispatcher in this process (node entry, one-process server). */
  dispatch: boolean;
  pollMs: number;
  timeoutMs: number;
  concurrency: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** After this long since the event, a failing delivery is given up (status failed). */
  retryForSeconds: number;
  /** Deliver to loopback/private/link-local addresses (default: yes except in production). */
  allowPrivate: boolean;
  /** Settled deliveries (and events nobody still waits for) older than this are deleted. */
  retentionDays: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function storageSettings(env: Env): RecordingStorageSettings {
  try {
    return recordingStorageFromEnv(env);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

/** Reads and checks every setting once, at boot; a bad value stops the process with a message naming it. */
export function loadControlConfig(env: Env): ControlConfig {
  // Empty strings in .env files mean "not set", not "set to nothing".
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, val]) => val !== undefined && val !== ""),
  );
  const parsed = v.safeParse(EnvSchema, cleaned);
  if (!parsed.success) {
    const lines = parsed.issues.map((i) => `${v.getDotPath(i) ?? "env"}: ${i.message}`);
    throw new ConfigError(`invalid control configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.output;
  const production = e.NODE_ENV === "production";

  if (e.JWT_SECRET && e.JWKS_URL) {
    throw new ConfigError("set either JWT_SECRET (HS256) or JWKS_URL (asymmetric keys), not both");
  }
  const userSecret = e.JWKS_URL ? null : (e.JWT_SECRET ?? DEV_JWT_SECRET);
  // Never the user secret as-is: derived from it when not set (see deriveJoinSecret).
  const joinSecret = e.JOIN_TOKEN_SECRET ?? deriveJoinSecret(e.JWT_SECRET ?? DEV_JWT_SECRET);
  if (e.JWT_AUDIENCE === JOIN_TOKEN_AUDIENCE) {
    throw new ConfigError(
      `JWT_AUDIENCE must not be ${JOIN_TOKEN_AUDIENCE}: that audience is the join token's`,
    );
  }
  if (production) {
    if (userSecret === DEV_JWT_SECRET) {
      throw new ConfigError(
        "NODE_ENV=production needs JWT_SECRET (or JWKS_URL); refusing the development secret",
      );
    }
    if (!e.JOIN_TOKEN_SECRET && !e.JWT_SECRET) {
      throw new ConfigError(
        "NODE_ENV=production needs JOIN_TOKEN_SECRET (or JWT_SECRET); refusing the development secret",
      );
    }
    if (joinSecret.length < 32)
      throw new ConfigError("JOIN_TOKEN_SECRET must be at least 32 characters in production");
    if (e.JOIN_TOKEN_SECRET && e.JOIN_TOKEN_SECRET === e.JWT_SECRET)
      throw new ConfigError("JOIN_TOKEN_SECRET must differ from JWT_SECRET in production");
  }

  if (Boolean(e.TURN_SECRET) !== Boolean(e.TURN_URLS)) {
    throw new ConfigError("TURN_SECRET and TURN_URLS go together: set both (TURN) or neither (no TURN)");
  }
  if (production && e.TURN_SECRET && e.TURN_SECRET.length < 32) {
    throw new ConfigError("TURN_SECRET must be at least 32 characters in production");
  }

  let redisUrl: string | null = e.REDIS_URL ?? null;
  if (!redisUrl && e.REDIS_HOST) {
    const auth = e.REDIS_PASSWORD ? `:${encodeURIComponent(e.REDIS_PASSWORD)}@` : "";
    redisUrl = `redis://${auth}${e.REDIS_HOST}:${e.REDIS_PORT}`;
  }

  const origins = e.CORS_ORIGINS.split(",")
    .map((s) => s.trim())
    .filter(Boolean);

  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: databaseUrlFromEnv(cleaned),
    redisUrl,
    auth: {
      secret: userSecret,
      jwksUrl: e.JWKS_URL ?? null,
      issuer: e.JWT_ISSUER ?? null,
      audience: e.JWT_AUDIENCE ?? null,
      claims: { tenant: e.JWT_CLAIM_TENANT, role: e.JWT_CLAIM_ROLE, name: e.JWT_CLAIM_NAME },
    },
    joinToken: { secret: joinSecret, ttlSeconds: e.JOIN_TOKEN_TTL_SECONDS },
    corsOrigins: origins.length ? origins : ["*"],
    logLevel: e.LOG_LEVEL,
    logDir: e.LOG_DIR.trim() === "" || e.LOG_DIR === "-" ? null : e.LOG_DIR,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    maxOpenMeetingsPerUser: e.MAX_OPEN_MEETINGS_PER_USER,
    hostMaxAgeMs: e.HOST_MAX_AGE_MS,
    meetingClaimTtlMs: e.MEETING_CLAIM_TTL_MS,
    healthTimeoutMs: e.HEALTH_TIMEOUT_MS,
    invitations: { publicUrl: e.PUBLIC_URL ?? null, organizerEmail: e.INVITE_ORGANIZER_EMAIL },
    webhooks: {
      dispatch: e.WEBHOOK_DISPATCH === "1",
      pollMs: e.WEBHOOK_POLL_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      concurrency: e.WEBHOOK_CONCURRENCY,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: e.WEBHOOK_RETRY_MAX_MS,
      retryForSeconds: e.WEBHOOK_RETRY_FOR_SECONDS,
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE ? e.WEBHOOK_ALLOW_PRIVATE === "1" : !production,
      retentionDays: e.WEBHOOK_RETENTION_DAYS,
    },
    turn:
      e.TURN_SECRET && e.TURN_URLS
        ? { secret: e.TURN_SECRET, urls: e.TURN_URLS, ttlSeconds: e.TURN_TTL_SECONDS }
        : null,
    recordingStorage: storageSettings(cleaned),
  };
}
