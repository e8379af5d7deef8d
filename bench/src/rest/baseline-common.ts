/**
 * What the two hand-written comparison servers share (Express + pg, and minimal Hono + pg): config,
 * pool, JWT check, SQL and answer shape. Keeping it in one place means the only difference between
 * them is the HTTP framework.
 */
import { randomUUID } from "node:crypto";
import { jwtVerify } from "jose";
import pg from "pg";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface User {
  sub: string;
  tenant_id: string;
  role: string;
}

export function baselineConfig(env: NodeJS.ProcessEnv) {
  const secret = env.JWT_SECRET;
  const databaseUrl = env.DATABASE_URL;
  if (!secret || !databaseUrl) {
    console.error("the baseline servers need JWT_SECRET and DATABASE_URL");
    process.exit(1);
  }
  return {
    port: Number(env.PORT ?? 8096),
    host: env.HOST ?? "127.0.0.1",
    secret,
    databaseUrl,
    // Same default as createDb() in @nexus/drizzle, so every server queues on the same number of connections.
    poolMax: Number(env.DB_POOL_MAX ?? 10),
  };
}

export function createPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on("error", () => {});
  return pool;
}

const ROLES = new Set(["admin", "host", "member"]);
const BEARER = /^Bearer\s+(\S+)$/i;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** HS256 with jose, as control/ does it (key as bytes, exp and sub required), then the claims we need. */
export function createVerifier(secret: string) {
  const key = new TextEncoder().encode(secret);
  return async (authorization: string | undefined): Promise<User> => {
    const match = BEARER.exec(authorization ?? "");
    if (!match) throw new HttpError(401, "unauthorized", "missing bearer token");
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(match[1]!, key, {
        algorithms: ["HS256"],
        requiredClaims: ["exp", "sub"],
      }));
    } catch {
      throw new HttpError(401, "unauthorized", "invalid token");
    }
    const { sub, tenant_id, role } = payload;
    if (typeof sub !== "string" || typeof tenant_id !== "string" || !tenant_id || !ROLES.has(role as string))
      throw new HttpError(401, "unauthorized", "token claims missing or invalid");
    return { sub, tenant_id, role: role as string };
  };
}

const DEFAULT_SETTINGS = {
  mute_on_join: false,
  video_off_on_join: false,
  allow_screen_share: true,
  allow_multiple_screen_shares: false,
  allow_chat: true,
  empty_timeout_seconds: 300,
};

// The column list drizzle sends for `select().from(meetings)`, so PostgreSQL does the same work for all.
const COLUMNS =
  "id, tenant_id, title, description, status, scheduled_start, scheduled_end, started_at, ended_at, " +
  "max_participants, is_public, lobby_enabled, locked, password_hash, settings, created_by, media_host_id, " +
  "created_at, updated_at";

type Row = Record<string, unknown> & { settings: Record<string, unknown> };

const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : null);

/** Field for field the JSON control/ answers (meetingView). */
const view = (m: Row) => ({
  id: m.id,
  tenant_id: m.tenant_id,
  title: m.title,
  description: m.description,
  status: m.status,
  scheduled_start: iso(m.scheduled_start),
  scheduled_end: iso(m.scheduled_end),
  started_at: iso(m.started_at),
  ended_at: iso(m.ended_at),
  max_participants: m.max_participants,
  is_public: m.is_public,
  lobby_enabled: m.lobby_enabled,
  locked: m.locked,
  has_password: m.password_hash !== null,
  settings: { ...DEFAULT_SETTINGS, ...m.settings },
  created_by: m.created_by,
  created_at: iso(m.created_at),
  updated_at: iso(m.updated_at),
});

export async function getMeeting(pool: pg.Pool, user: User, rawId: string) {
  if (!UUID_RE.test(rawId)) throw new HttpError(404, "not_found", "meeting not found");
  const { rows } = await pool.query<Row>(
    `select ${COLUMNS} from meetings where tenant_id = $1 and id = $2 limit 1`,
    [user.tenant_id, rawId.toLowerCase()],
  );
  if (!rows[0]) throw new HttpError(404, "not_found", "meeting not found");
  return view(rows[0]);
}

const isBool = (v: unknown) => v === undefined || typeof v === "boolean";

/** Hand-written checks of the fields the benchmark sends; the product validates with valibot. */
export async function createMeeting(pool: pg.Pool, user: User, body: unknown) {
  if (user.role !== "admin" && user.role !== "host")
    throw new HttpError(403, "forbidden", "role not allowed");
  const b = (body ?? {}) as Record<string, unknown>;
  const title = typeof b.title === "string" ? b.title.trim() : "";
  const max = b.max_participants ?? 100;
  if (
    !title ||
    title.length > 200 ||
    !(b.description === undefined || b.description === null || typeof b.description === "string") ||
    !(Number.isInteger(max) && (max as number) >= 1 && (max as number) <= 1000) ||
    !isBool(b.is_public) ||
    !isBool(b.lobby_enabled)
  ) {
    throw new HttpError(400, "validation_failed", "invalid request json");
  }
  const now = new Date();
  const { rows } = await pool.query<Row>(
    `insert into meetings (id, tenant_id, title, description, status, scheduled_start, scheduled_end,
       max_participants, is_public, lobby_enabled, password_hash, settings, created_by, created_at, updated_at)
     values ($1, $2, $3, $4, 'scheduled', null, null, $5, $6, $7, null, $8, $9, $10, $10)
     returning ${COLUMNS}`,
    [
      randomUUID(),
      user.tenant_id,
      title,
      (b.description as string | undefined) ?? null,
      max,
      b.is_public ?? false,
      b.lobby_enabled ?? false,
      JSON.stringify({ ...DEFAULT_SETTINGS, ...(b.settings as object | undefined) }),
      user.sub,
      now,
    ],
  );
  return view(rows[0]!);
}

export const errorBody = (err: unknown) => {
  const e = err instanceof HttpError ? err : new HttpError(500, "internal", "internal error");
  return { status: e.status, body: { error: { code: e.code, message: e.message } } };
};

/** SIGINT/SIGTERM close the server, then the pool, then exit (so --cpu-prof gets written). */
export function stopOnSignals(close: (done: () => void) => void, pool: pg.Pool) {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    close(() => void pool.end().then(() => process.exit(0)));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
