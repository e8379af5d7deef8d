import { AppError } from "@nexus/shared/errors";
import {
  JOIN_TOKEN_AUDIENCE,
  JOIN_TOKEN_ISSUER,
  type JoinClaims,
  JoinClaimsSchema,
} from "@nexus/shared/tokens";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
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
    .setProtectedHeader({ alg: ALG, typ: "JWT" })
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

/**
 * Media verifies before any room work. Throws AppError("unauthorized") for every failure, so the
 * caller answers the same way whether the token is forged, expired, mis-addressed or malformed.
 * Single use of jti is the caller's job (it owns the memory of what it has seen).
 */
export async function verifyJoinToken(token: string, options: VerifyJoinTokenOptions): Promise<JoinClaims> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, keyOf(options.secret), {
      algorithms: [ALG],
      issuer: JOIN_TOKEN_ISSUER,
      audience: JOIN_TOKEN_AUDIENCE,
      currentDate: options.now,
      requiredClaims: ["exp", "iat", "jti"],
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new AppError("unauthorized", "join token expired");
    throw new AppError("unauthorized", "invalid join token");
  }
  const parsed = v.safeParse(JoinClaimsSchema, payload);
  if (!parsed.success) throw new AppError("unauthorized", "join token claims malformed");
  if (parsed.output.host_id !== options.hostId) {
    throw new AppError("unauthorized", "join token is for another media host");
  }
  return parsed.output;
}
