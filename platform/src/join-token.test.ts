import { AppError } from "@nexus/shared/errors";
import {
  JOIN_TOKEN_AUDIENCE,
  JOIN_TOKEN_ISSUER,
  JOIN_TOKEN_TYPE,
  type JoinClaims,
} from "@nexus/shared/tokens";
import { decodeJwt, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { signJoinToken, verifyJoinToken, verifyJoinTokenSync } from "./join-token.js";

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
      .setProtectedHeader({ alg: "HS256", typ: JOIN_TOKEN_TYPE })
      .setIssuer(JOIN_TOKEN_ISSUER)
      .setAudience(JOIN_TOKEN_AUDIENCE)
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setJti(claims.jti)
      .setExpirationTime(Math.floor(now.getTime() / 1000) + 60)
      .sign(new TextEncoder().encode(secret));
    const err = await rejection(verifyJoinToken(token, { secret, hostId: "host-a", now }));
    expect(err.message).toBe("join token claims malformed");
  });

  describe("synchronous verify (node:crypto HMAC)", () => {
    const iat = Math.floor(now.getTime() / 1000);
    const build = (opts: {
      alg?: string;
      header?: Record<string, unknown>;
      payload?: Record<string, unknown>;
    }) =>
      new SignJWT({ ...claims, ...opts.payload })
        .setProtectedHeader({ alg: opts.alg ?? "HS256", typ: JOIN_TOKEN_TYPE, ...opts.header })
        .setIssuer(JOIN_TOKEN_ISSUER)
        .setAudience(JOIN_TOKEN_AUDIENCE)
        .setIssuedAt(iat)
        .setJti(claims.jti)
        .setExpirationTime(iat + 60)
        .sign(new TextEncoder().encode(secret));
    const refusal = (token: string, at = now) => {
      try {
        verifyJoinTokenSync(token, { secret, hostId: "host-a", now: at });
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        return err as AppError;
      }
      throw new Error("accepted");
    };

    it("returns the claims and the expiry", async () => {
      const { token, expiresAt } = await signJoinToken(claims, { secret, now, ttlSeconds: 60 });
      expect(verifyJoinTokenSync(token, { secret, hostId: "host-a", now })).toEqual({ claims, expiresAt });
    });

    it("treats exp equal to now as expired, like jose", async () => {
      const { token } = await signJoinToken(claims, { secret, now, ttlSeconds: 60 });
      expect(refusal(token, new Date(now.getTime() + 60_000)).message).toBe("join token expired");
      expect(
        verifyJoinTokenSync(token, { secret, hostId: "host-a", now: new Date(now.getTime() + 59_999) })
          .claims,
      ).toEqual(claims);
    });

    it("refuses another HMAC algorithm even with the right secret", async () => {
      expect(refusal(await build({ alg: "HS512" })).message).toBe("invalid join token");
    });

    it("refuses a critical header extension it does not understand", async () => {
      // jose refuses to sign an unknown crit: craft the header by hand and sign it properly.
      const header = Buffer.from(JSON.stringify({ alg: "HS256", crit: ["x-ours"], "x-ours": 1 })).toString(
        "base64url",
      );
      const payload = (await build({})).split(".")[1];
      const { createHmac } = await import("node:crypto");
      const sig = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
      expect(refusal(`${header}.${payload}.${sig}`).message).toBe("invalid join token");
    });

    it("honours nbf and accepts an audience list that names the media hosts", async () => {
      expect(refusal(await build({ payload: { nbf: iat + 10 } })).message).toBe("invalid join token");
      const listed = await build({ payload: { aud: ["other", JOIN_TOKEN_AUDIENCE] } });
      expect(verifyJoinTokenSync(listed, { secret, hostId: "host-a", now }).claims).toEqual(claims);
    });

    it("refuses garbage in any part and a truncated signature", async () => {
      const { token } = await signJoinToken(claims, { secret, now, ttlSeconds: 60 });
      const [h, p, s] = token.split(".") as [string, string, string];
      for (const bad of [
        `${h}.${p}`,
        `${h}.${p}.${s}.x`,
        `${h}!.${p}.${s}`,
        `${h}.${p}.${s.slice(0, -4)}`,
        `${h}.${p}.${s}=`,
        "",
      ])
        expect(refusal(bad).code).toBe("unauthorized");
    });

    it("refuses a token without iat or jti", async () => {
      const noIat = await new SignJWT({ ...claims })
        .setProtectedHeader({ alg: "HS256", typ: JOIN_TOKEN_TYPE })
        .setIssuer(JOIN_TOKEN_ISSUER)
        .setAudience(JOIN_TOKEN_AUDIENCE)
        .setExpirationTime(iat + 60)
        .sign(new TextEncoder().encode(secret));
      expect(refusal(noIat).message).toBe("invalid join token");
      const { jti: _, ...withoutJti } = claims;
      const noJti = await new SignJWT({ ...withoutJti })
        .setProtectedHeader({ alg: "HS256", typ: JOIN_TOKEN_TYPE })
        .setIssuer(JOIN_TOKEN_ISSUER)
        .setAudience(JOIN_TOKEN_AUDIENCE)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 60)
        .sign(new TextEncoder().encode(secret));
      expect(refusal(noJti).message).toBe("invalid join token");
    });
  });
});
