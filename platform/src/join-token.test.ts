import { AppError } from "@nexus/shared/errors";
import { JOIN_TOKEN_AUDIENCE, JOIN_TOKEN_ISSUER, type JoinClaims } from "@nexus/shared/tokens";
import { decodeJwt, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { signJoinToken, verifyJoinToken } from "./join-token.js";

const secret = "join-secret-for-tests-0123456789";
const now = new Date("2030-01-01T10:00:00Z");
const claims: JoinClaims = {
  jti: "jti-123456789",
  meeting_id: "11111111-1111-4111-8111-111111111111",
  participant_id: "22222222-2222-4222-8222-222222222222",
  tenant_id: "t1",
  user_id: "alice",
  name: "Alice",
  role: "host",
  host_id: "host-a",
};

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe("join token", () => {
  it("round-trips the claims for the host it was placed on", async () => {
    const { token, expiresAt } = await signJoinToken(claims, { secret, now, ttlSeconds: 60 });
    expect(expiresAt.toISOString()).toBe("2030-01-01T10:01:00.000Z");
    const out = await verifyJoinToken(token, { secret, hostId: "host-a", now });
    expect(out).toEqual(claims);
    const raw = decodeJwt(token);
    expect(raw.iss).toBe(JOIN_TOKEN_ISSUER);
    expect(raw.aud).toBe(JOIN_TOKEN_AUDIENCE);
    expect(raw.exp).toBe(Math.floor(now.getTime() / 1000) + 60);
  });

  it("rejects a token placed on another host", async () => {
    const { token } = await signJoinToken(claims, { secret, now, ttlSeconds: 60 });
    const err = await rejection(verifyJoinToken(token, { secret, hostId: "host-b", now }));
    expect(err.code).toBe("unauthorized");
    expect(err.message).toMatch(/another media host/);
  });

  it("rejects an expired token", async () => {
    const { token } = await signJoinToken(claims, { secret, now, ttlSeconds: 60 });
    const later = new Date(now.getTime() + 61_000);
    const err = await rejection(verifyJoinToken(token, { secret, hostId: "host-a", now: later }));
    expect(err.message).toBe("join token expired");
  });

  it("rejects a token signed with another secret", async () => {
    const { token } = await signJoinToken(claims, { secret: "someone-else", now, ttlSeconds: 60 });
    const err = await rejection(verifyJoinToken(token, { secret, hostId: "host-a", now }));
    expect(err.code).toBe("unauthorized");
  });

  it("rejects a tampered payload", async () => {
    const { token } = await signJoinToken(claims, { secret, now, ttlSeconds: 60 });
    const [h, p, s] = token.split(".");
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
    payload.role = "host";
    payload.meeting_id = "33333333-3333-4333-8333-333333333333";
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
    await rejection(verifyJoinToken(forged, { secret, hostId: "host-a", now }));
  });

  it("rejects alg none", async () => {
    const header = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    const body = Buffer.from(
      JSON.stringify({ ...claims, iss: JOIN_TOKEN_ISSUER, aud: JOIN_TOKEN_AUDIENCE, exp: 2e9, iat: 1 }),
    ).toString("base64url");
    await rejection(verifyJoinToken(`${header}.${body}.`, { secret, hostId: "host-a", now }));
  });

  it("rejects a user token signed with the same secret but meant for the REST API", async () => {
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setJti(claims.jti)
      .setExpirationTime(Math.floor(now.getTime() / 1000) + 60)
      .sign(new TextEncoder().encode(secret));
    await rejection(verifyJoinToken(token, { secret, hostId: "host-a", now }));
  });

  it("rejects a token whose claims do not match the schema", async () => {
    const token = await new SignJWT({ ...claims, role: "emperor" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(JOIN_TOKEN_ISSUER)
      .setAudience(JOIN_TOKEN_AUDIENCE)
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setJti(claims.jti)
      .setExpirationTime(Math.floor(now.getTime() / 1000) + 60)
      .sign(new TextEncoder().encode(secret));
    const err = await rejection(verifyJoinToken(token, { secret, hostId: "host-a", now }));
    expect(err.message).toBe("join token claims malformed");
  });
});
