import { AppError } from "@nexus/shared/errors";
import {
  JOIN_TOKEN_AUDIENCE,
  JOIN_TOKEN_ISSUER,
  JOIN_TOKEN_TYPE,
  type UserClaims,
  UserClaimsSchema,
} from "@nexus/shared/tokens";
import {
  createRemoteJWKSet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from "jose";
import * as v from "valibot";
import type { ControlConfig } from "./config.js";

/** Turns the bearer token of a request into the caller, or throws AppError("unauthorized"). */
export interface UserVerifier {
  verify(token: string, now: Date): Promise<UserClaims>;
}

/** Asymmetric algorithms only: with a JWKS an HS256 token (e.g. signed with the public key) must fail. */
const JWKS_ALGORITHMS = ["RS256", "ES256", "EdDSA"];

export interface VerifierOptions {
  /** Key source instead of JWKS_URL (tests, or a key set already in memory). */
  keySet?: JWTVerifyGetKey;
}

/**
 * Given the raw bytes, jose imports them as a WebCrypto key on every call (about half the cost of a
 * verify); imported once per verifier or signer instead.
 */
export function importHmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  const key = crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [usage],
  );
  // Awaited by each call; this only keeps a failure from being reported as unhandled before the first.
  key.catch(() => {});
  return key;
}

/** Any one of the join token's marks refuses a token here (see JOIN_TOKEN_TYPE). */
function isJoinToken(payload: JWTPayload, typ: string | undefined): boolean {
  const aud = payload.aud;
  const audiences = Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
  return (
    typ?.toLowerCase() === JOIN_TOKEN_TYPE ||
    payload.iss === JOIN_TOKEN_ISSUER ||
    audiences.includes(JOIN_TOKEN_AUDIENCE)
  );
}

export function createUserVerifier(auth: ControlConfig["auth"], options: VerifierOptions = {}): UserVerifier {
  const base: JWTVerifyOptions = { requiredClaims: ["exp", "sub"] };
  if (auth.issuer) base.issuer = auth.issuer;
  if (auth.audience) base.audience = auth.audience;

  let check: (
    token: string,
    now: Date,
  ) => Promise<{ payload: JWTPayload; protectedHeader: { typ?: string } }>;
  if (options.keySet || auth.jwksUrl) {
    const keySet = options.keySet ?? createRemoteJWKSet(new URL(auth.jwksUrl!), { timeoutDuration: 3000 });
    check = async (token, now) =>
      jwtVerify(token, keySet, { ...base, algorithms: JWKS_ALGORITHMS, currentDate: now });
  } else if (auth.secret) {
    const key = importHmacKey(auth.secret, "verify");
    check = async (token, now) =>
      jwtVerify(token, await key, { ...base, algorithms: ["HS256"], currentDate: now });
  } else {
    throw new Error("no JWT verification method configured");
  }

  return {
    async verify(token, now) {
      let payload: JWTPayload;
      let typ: string | undefined;
      try {
        const verified = await check(token, now);
        payload = verified.payload;
        typ = verified.protectedHeader.typ;
      } catch (err) {
        const code = (err as { code?: string }).code;
        const reason = code === "ERR_JWT_EXPIRED" ? "token expired" : "invalid token";
        throw new AppError("unauthorized", reason);
      }
      if (isJoinToken(payload, typ)) throw new AppError("unauthorized", "a join token is not a bearer token");
      // Claim names differ between identity providers; map them onto ours before validating.
      const mapped = {
        sub: payload.sub,
        tenant_id: payload[auth.claims.tenant],
        role: payload[auth.claims.role],
        name: payload[auth.claims.name] ?? undefined,
      };
      const parsed = v.safeParse(UserClaimsSchema, mapped);
      if (!parsed.success) {
        const path = v.getDotPath(parsed.issues[0]!) ?? "claims";
        throw new AppError("unauthorized", `token claim ${path} missing or invalid`);
      }
      return parsed.output;
    },
  };
}
