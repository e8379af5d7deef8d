import { createDb, type Database } from "@nexus/drizzle";
import { deriveJoinSecret, signJoinToken, verifyJoinTokenSync } from "@nexus/platform/join-token";
import { JOIN_TOKEN_AUDIENCE, JOIN_TOKEN_ISSUER } from "@nexus/shared/tokens";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, freshTenant, host, makeApp, SECRET, type TestApp, testConfig, userToken } from "./harness.js";

/**
 * Hole 2 of issue 16: a join token was a valid REST bearer token (no audience checked, and the join secret
 * defaulted to the JWT secret), so a leaked one deleted meetings and a demoted creator's got host rights back.
 */
describe("tokens are typed by audience", () => {
  let database: Database;
  let t: TestApp;
  beforeAll(async () => {
    database = createDb("memory://");
    await database.migrate();
    // The default a fresh deployment runs with: JWT_SECRET only, the join secret left to control.
    t = makeApp(database, { config: testConfig({ JOIN_TOKEN_SECRET: "" }) });
    await t.registry.upsert(host("host-a", { clock: t.clock }));
  });
  afterAll(() => database.close());

  it("derives the join secret instead of reusing the JWT secret", () => {
    expect(t.config.joinToken.secret).toBe(deriveJoinSecret(SECRET));
    expect(t.config.joinToken.secret).not.toBe(SECRET);
  });

  it("refuses a join token as a bearer token: it can neither read nor delete the meeting", async () => {
    const tenant = freshTenant();
    const hostToken = await userToken({ tenant, sub: "ann", role: "host", clock: t.clock });
    const created = await call(t, "POST", "/api/meetings", { token: hostToken, body: { title: "Board" } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const joined = await call(t, "POST", `/api/meetings/${id}/join`, { token: hostToken, body: {} });
    expect(joined.status).toBe(200);
    expect(joined.body.role).toBe("host");
    const joinToken = joined.body.join_token as string;

    const read = await call(t, "GET", `/api/meetings/${id}`, { token: joinToken });
    expect(read.status).toBe(401);
    expect(read.body.error.code).toBe("unauthorized");
    const deleted = await call(t, "DELETE", `/api/meetings/${id}`, { token: joinToken });
    expect(deleted.status).toBe(401);
    expect((await call(t, "GET", `/api/meetings/${id}`, { token: hostToken })).status).toBe(200);
  });

  it("refuses any token bearing a join token's issuer, audience or type, even signed with the JWT secret", async () => {
    const now = t.clock.seconds;
    const base = { tenant_id: "t1", role: "host" };
    const sign = (header: Record<string, string>, claims: (j: SignJWT) => SignJWT) =>
      claims(
        new SignJWT(base)
          .setProtectedHeader({ alg: "HS256", ...header })
          .setSubject("mallory")
          .setIssuedAt(now)
          .setExpirationTime(now + 60),
      ).sign(new TextEncoder().encode(SECRET));
    const forged = [
      await sign({ typ: "JWT" }, (j) => j.setAudience(JOIN_TOKEN_AUDIENCE)),
      await sign({ typ: "JWT" }, (j) => j.setAudience(["other", JOIN_TOKEN_AUDIENCE])),
      await sign({ typ: "JWT" }, (j) => j.setIssuer(JOIN_TOKEN_ISSUER)),
      await sign({ typ: "nexus-join+jwt" }, (j) => j),
    ];
    for (const token of forged) {
      const res = await call(t, "GET", "/api/meetings", { token });
      expect(res.status).toBe(401);
    }
    // The same token without those marks is an ordinary user token.
    expect(
      (await call(t, "GET", "/api/meetings", { token: await sign({ typ: "JWT" }, (j) => j) })).status,
    ).toBe(200);
  });

  it("never takes a user JWT as a join token, even one signed with the join secret", async () => {
    const now = new Date(t.clock.ms);
    const secret = t.config.joinToken.secret;
    const claims = {
      jti: "jti-0123456789",
      meeting_id: crypto.randomUUID(),
      participant_id: crypto.randomUUID(),
      tenant_id: "t1",
      user_id: "ann",
      name: "Ann",
      role: "host" as const,
      host_id: "host-a",
    };
    const genuine = await signJoinToken(claims, { secret, now, ttlSeconds: 60 });
    expect(verifyJoinTokenSync(genuine.token, { secret, hostId: "host-a", now }).claims.user_id).toBe("ann");
    // A user JWT: wrong typ, no join issuer/audience.
    const user = await userToken({ sub: "ann", secret, clock: t.clock });
    expect(() => verifyJoinTokenSync(user, { secret, hostId: "host-a", now })).toThrow(/invalid join token/);
    // Every join claim, the right issuer and audience, but a plain JWT header.
    const untyped = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(JOIN_TOKEN_ISSUER)
      .setAudience(JOIN_TOKEN_AUDIENCE)
      .setJti(claims.jti)
      .setIssuedAt(t.clock.seconds)
      .setExpirationTime(t.clock.seconds + 60)
      .sign(new TextEncoder().encode(secret));
    expect(() => verifyJoinTokenSync(untyped, { secret, hostId: "host-a", now })).toThrow(
      /invalid join token/,
    );
    // And the user secret itself is no join secret.
    const withUserSecret = await signJoinToken(claims, { secret: SECRET, now, ttlSeconds: 60 });
    expect(() => verifyJoinTokenSync(withUserSecret.token, { secret, hostId: "host-a", now })).toThrow();
  });
});
