import type { Db } from "@nexus/drizzle";
import type { Bus, HostRegistry, Logger } from "@nexus/platform";
import { type SignedJoinToken, signJoinToken } from "@nexus/platform/join-token";
import type { JoinClaims, UserClaims } from "@nexus/shared/tokens";
import { importHmacKey, type UserVerifier } from "./auth.js";
import type { ControlConfig } from "./config.js";
import type { ControlMetrics } from "./metrics.js";
import type { MeetingQueries } from "./services/queries.js";

export interface JoinSigner {
  sign(claims: JoinClaims, now: Date): Promise<SignedJoinToken>;
}

/** Everything a request may touch, injected per app so handlers hold no module state. */
export interface ControlDeps {
  db: Db;
  bus: Bus;
  registry: HostRegistry;
  config: ControlConfig;
  logger: Logger;
  metrics: ControlMetrics;
  now(): Date;
  randomId(): string;
  verifier: UserVerifier;
  joinSigner: JoinSigner;
}

export function createJoinSigner(config: ControlConfig["joinToken"]): JoinSigner {
  const key = importHmacKey(config.secret, "sign");
  return {
    sign: async (claims, now) =>
      signJoinToken(claims, { secret: await key, ttlSeconds: config.ttlSeconds, now }),
  };
}

export type AppEnv = {
  Variables: {
    deps: ControlDeps;
    /** Set by the auth middleware on /api/*. */
    user: UserClaims;
    /** deps.logger bound to this request's id. */
    log: Logger;
    requestId: string;
    /** Prepared per app by createApp (see services/queries.ts). */
    queries: MeetingQueries;
  };
};
