import { createHmac, timingSafeEqual } from "node:crypto";
import { AppError } from "@nexus/shared/errors";
import {
  JOIN_TOKEN_AUDIENCE,
  JOIN_TOKEN_ISSUER,
  JOIN_TOKEN_TYPE,
  type JoinClaims,
  JoinClaimsSchema,
} from "@nexus/shared/tokens";
import { SignJWT } from "jose";
import * as v from "valibot";

/** One algorithm, pinned on both sides, so a token can never pick its own verification method. */
const ALG = "HS256";

/** A CryptoKey imported once by the caller saves jose a key import per token. */
const keyOf = (secret: string | CryptoKey): Uint8Array | CryptoKey =>
  typeof secret === "string" ? new TextEncoder().encode(secret) : secret;

export interface SignJoinTokenOptions {
  /** The shared secret, or it as an HMAC SHA-256 CryptoKey with usage "sign". */
  secret: string | CryptoKey;
  now: Date;
  ttlSeconds: number;
}

export interface SignedJoinToken {
  token: string;
  expiresAt: Date;
}

/** Control signs after it has checked password, state, capacity and placement. */
export async function signJoinToken(
  claims: JoinClaims,
  options: SignJoinTokenOptions,
): Promise<SignedJoinToken> {
  const checked = v.parse(JoinClaimsSchema, claims);
  const iat = Math.floor(options.now.getTime() / 1000);
  const exp = iat + options.ttlSeconds;
  const token = await new SignJWT({ ...checked })
    .setProtectedHeader({ alg: ALG, typ: JOIN_TOKEN_TYPE })
    .setIssuer(JOIN_TOKEN_ISSUER)
    .setAudience(JOIN_TOKEN_AUDIENCE)
    .setSubject(checked.user_id)
    .setJti(checked.jti)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(keyOf(options.secret));
  return { token, expiresAt: new Date(exp * 1000) };
}

export interface VerifyJoinTokenOptions {
  secret: string;
  /** The verifying media host: a token placed on another host is refused. */
  hostId: string;
  now: Date;
}

export interface VerifiedJoinToken {
  claims: JoinClaims;
  /** From `exp`: how long the caller must remember the jti to refuse a replay. */
  expiresAt: Date;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const invalid = () => new AppError("unauthorized", "invalid join token");

function decodePart(part: string): Record<string, unknown> {
  if (!BASE64URL.test(part)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid();
  return value as Record<string, unknown>;
}

/**
 * Media verifies before any room work, synchronously with node:crypto's HMAC: the upgrade path of every
 * join runs this, and jose's WebCrypto path costs several times the CPU (a promise chain and a key import per
 * token). The checks are jose's for this token shape: compact JWS, header alg pinned to HS256 (no `none`, no
 * `crit` extensions), constant-time signature compare, then iss, aud, exp (expired when exp <= now, no
 * leeway), iat and jti present, nbf honoured if set. Throws AppError("unauthorized") for every failure, so
 * the caller answers the same way whether the token is forged, expired, mis-addressed or malformed.
 * Single use of jti is the caller's job (it owns the memory of what it has seen).
 */
export function verifyJoinTokenSync(token: string, options: VerifyJoinTokenOptions): VerifiedJoinToken {
  const parts = token.split(".");
  if (parts.length !== 3) throw invalid();
  const [h, p, s] = parts as [string, string, string];
  const header = decodePart(h);
  if (header.alg !== ALG || header.crit !== undefined || header.b64 !== undefined) throw invalid();
  // Typed: a user JWT signed with the same secret by mistake is still not a join token.
  if (header.typ !== JOIN_TOKEN_TYPE) throw invalid();
  if (!BASE64URL.test(s)) throw invalid();
  const given = Buffer.from(s, "base64url");
  const expected = createHmac("sha256", options.secret).update(`${h}.${p}`).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  const payload = decodePart(p);
  const { iss, aud, exp, iat, nbf, jti } = payload;
  if (iss !== JOIN_TOKEN_ISSUER) throw invalid();
  if (!(aud === JOIN_TOKEN_AUDIENCE || (Array.isArray(aud) && aud.includes(JOIN_TOKEN_AUDIENCE)))) {
    throw invalid();
  }
  if (typeof exp !== "number" || typeof iat !== "number" || jti === undefined) throw invalid();
  const nowSeconds = Math.floor(options.now.getTime() / 1000);
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > nowSeconds)) throw invalid();
  if (exp <= nowSeconds) throw new AppError("unauthorized", "join token expired");
  const parsed = v.safeParse(JoinClaimsSchema, payload);
  if (!parsed.success) throw new AppError("unauthorized", "join token claims malformed");
  if (parsed.output.host_id !== options.hostId) {
    throw new AppError("unauthorized", "join token is for another media host");
  }
  return { claims: parsed.output, expiresAt: new Date(exp * 1000) };
}

/**
 * The join-token secret when JOIN_TOKEN_SECRET is not set: derived from the user-JWT secret (HMAC-SHA256 of a
 * fixed label), so the two never share a key as-is and one can never verify a token made for the other.
 */
export function deriveJoinSecret(userSecret: string): string {
  return createHmac("sha256", userSecret).update("nexus-meet join-token secret v1").digest("base64url");
}

/** verifyJoinTokenSync as a promise, for callers that verify on an async path. */
export async function verifyJoinToken(token: string, options: VerifyJoinTokenOptions): Promise<JoinClaims> {
  return verifyJoinTokenSync(token, options).claims;
}
