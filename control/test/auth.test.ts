import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createDb, type Database } from "@nexus/drizzle";
import { Hono } from "hono";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, makeApp, SECRET, type TestApp, TestClock, testConfig, userToken } from "./harness.js";

const enc = (s: string) => new TextEncoder().encode(s);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

let database: Database;
beforeAll(async () => {
  database = createDb("memory://");
  await database.migrate();
});
afterAll(() => database.close());

const listStatus = async (t: TestApp, token: string) => {
  const res = await call(t, "GET", "/api/meetings", { token });
  return {
    status: res.status,
    code: res.body.error?.code as string | undefined,
    message: res.body.error?.message,
  };
};

describe("user JWT with a shared secret (HS256)", () => {
  let t: TestApp;
  beforeAll(() => {
    t = makeApp(database);
  });
  const claimsNow = () => ({ sub: "alice", tenant_id: "t1", role: "host", iat: t.clock.seconds });

  it("accepts a valid token", async () => {
    expect((await listStatus(t, await userToken({ clock: t.clock }))).status).toBe(200);
  });

  it("rejects a missing or non-bearer Authorization header", async () => {
    expect((await call(t, "GET", "/api/meetings")).status).toBe(401);
    const basic = await call(t, "GET", "/api/meetings", { headers: { Authorization: "Basic YWxpY2U6eA==" } });
    expect(basic.status).toBe(401);
    expect(basic.body.error.code).toBe("unauthorized");
  });

  it("rejects alg none", async () => {
    const token = `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claimsNow(), exp: t.clock.seconds + 60 })}.`;
    expect(await listStatus(t, token)).toMatchObject({ status: 401, code: "unauthorized" });
  });

  it("rejects a token signed with another secret", async () => {
    const token = await userToken({ clock: t.clock, secret: "not-the-secret" });
    expect(await listStatus(t, token)).toMatchObject({ status: 401, code: "unauthorized" });
  });

  it("rejects an expired token", async () => {
    const token = await userToken({ clock: t.clock, ttl: 60 });
    t.clock.advance(61_000);
    expect(await listStatus(t, token)).toMatchObject({ status: 401, message: "token expired" });
  });

  it("rejects a token that is not yet valid (nbf in the future)", async () => {
    const token = await new SignJWT(claimsNow())
      .setProtectedHeader({ alg: "HS256" })
      .setNotBefore(t.clock.seconds + 300)
      .setExpirationTime(t.clock.seconds + 3600)
      .sign(enc(SECRET));
    expect(await listStatus(t, token)).toMatchObject({ status: 401, code: "unauthorized" });
  });

  it("rejects a tampered payload", async () => {
    const token = await userToken({ clock: t.clock, role: "member" });
    const [h, p, s] = token.split(".");
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
    const forged = `${h}.${b64({ ...payload, role: "admin" })}.${s}`;
    expect(await listStatus(t, forged)).toMatchObject({ status: 401, code: "unauthorized" });
  });

  it("rejects a token without exp", async () => {
    const token = await new SignJWT(claimsNow()).setProtectedHeader({ alg: "HS256" }).sign(enc(SECRET));
    expect(await listStatus(t, token)).toMatchObject({ status: 401 });
  });

  it("rejects a token missing the tenant claim", async () => {
    const token = await userToken({ clock: t.clock, claims: { tenant_id: undefined } });
    expect(await listStatus(t, token)).toMatchObject({
      status: 401,
      message: "token claim tenant_id missing or invalid",
    });
  });

  it("rejects an unknown role", async () => {
    const token = await userToken({ clock: t.clock, role: "superuser" });
    expect(await listStatus(t, token)).toMatchObject({ status: 401, code: "unauthorized" });
  });

  it("rejects an HS512 token even with the right secret (algorithm pinned)", async () => {
    const token = await new SignJWT(claimsNow())
      .setProtectedHeader({ alg: "HS512" })
      .setExpirationTime(t.clock.seconds + 60)
      .sign(enc(SECRET));
    expect(await listStatus(t, token)).toMatchObject({ status: 401 });
  });
});

describe("issuer, audience and claim names from config", () => {
  const clock = new TestClock();
  const t = () =>
    makeApp(database, {
      clock,
      config: testConfig({
        JWT_ISSUER: "https://idp.example",
        JWT_AUDIENCE: "nexus-meet",
        JWT_CLAIM_TENANT: "org",
        JWT_CLAIM_ROLE: "https://nexus/role",
        JWT_CLAIM_NAME: "display",
      }),
    });
  const sign = (claims: Record<string, unknown>, iss = "https://idp.example", aud = "nexus-meet") =>
    new SignJWT({ org: "t9", "https://nexus/role": "admin", display: "Ann", ...claims })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("ann")
      .setIssuer(iss)
      .setAudience(aud)
      .setExpirationTime(clock.seconds + 60)
      .sign(enc(SECRET));

  it("maps configured claim names onto the caller", async () => {
    const app = t();
    const created = await call(app, "POST", "/api/meetings", { token: await sign({}), body: { title: "x" } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tenant_id: "t9", created_by: "ann" });
  });

  it("rejects the wrong issuer", async () => {
    expect(await listStatus(t(), await sign({}, "https://evil.example"))).toMatchObject({ status: 401 });
  });

  it("rejects the wrong audience", async () => {
    expect(await listStatus(t(), await sign({}, undefined, "another-app"))).toMatchObject({ status: 401 });
  });

  it("rejects a token carrying the default claim name instead of the configured one", async () => {
    const token = await sign({ org: undefined, tenant_id: "t9" });
    expect(await listStatus(t(), token)).toMatchObject({
      status: 401,
      message: "token claim tenant_id missing or invalid",
    });
  });
});

describe("user JWT with asymmetric keys from a JWKS URL", () => {
  const clock = new TestClock();
  let server: ReturnType<typeof serve>;
  let jwksUrl: string;
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  let ec: Awaited<ReturnType<typeof generateKeyPair>>;
  let ed: Awaited<ReturnType<typeof generateKeyPair>>;
  let t: TestApp;

  beforeAll(async () => {
    rsa = await generateKeyPair("RS256", { extractable: true });
    ec = await generateKeyPair("ES256", { extractable: true });
    ed = await generateKeyPair("EdDSA", { extractable: true });
    const keys = [
      { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
      { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
      { ...(await exportJWK(ed.publicKey)), kid: "ed-1", alg: "EdDSA", use: "sig" },
    ];
    const idp = new Hono().get("/.well-known/jwks.json", (c) => c.json({ keys }));
    await new Promise<void>((resolve) => {
      server = serve({ fetch: idp.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    jwksUrl = `http://127.0.0.1:${port}/.well-known/jwks.json`;
    t = makeApp(database, { clock, config: testConfig({ JWT_SECRET: "", JWKS_URL: jwksUrl }) });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const sign = (key: CryptoKey, alg: string, kid: string, claims: Record<string, unknown> = {}) =>
    new SignJWT({ tenant_id: "t1", role: "host", ...claims })
      .setProtectedHeader({ alg, kid })
      .setSubject("alice")
      .setIssuedAt(clock.seconds)
      .setExpirationTime(clock.seconds + 60)
      .sign(key);

  it("accepts RS256, ES256 and EdDSA tokens fetched over HTTP from the JWKS", async () => {
    expect((await listStatus(t, await sign(rsa.privateKey, "RS256", "rsa-1"))).status).toBe(200);
    expect((await listStatus(t, await sign(ec.privateKey, "ES256", "ec-1"))).status).toBe(200);
    expect((await listStatus(t, await sign(ed.privateKey, "EdDSA", "ed-1"))).status).toBe(200);
  });

  it("rejects an HS256 token signed with the public key as the HMAC secret (alg confusion)", async () => {
    const pem = await exportSPKI(rsa.publicKey);
    for (const secret of [pem, JSON.stringify(await exportJWK(rsa.publicKey))]) {
      const token = await new SignJWT({ tenant_id: "t1", role: "admin" })
        .setProtectedHeader({ alg: "HS256", kid: "rsa-1" })
        .setSubject("mallory")
        .setExpirationTime(clock.seconds + 60)
        .sign(enc(secret));
      expect(await listStatus(t, token)).toMatchObject({ status: 401, code: "unauthorized" });
    }
  });

  it("rejects a token from a key not in the set", async () => {
    const stranger = await generateKeyPair("RS256");
    expect(await listStatus(t, await sign(stranger.privateKey, "RS256", "rsa-1"))).toMatchObject({
      status: 401,
    });
  });

  it("rejects the development secret's HS256 tokens once JWKS is configured", async () => {
    expect(await listStatus(t, await userToken({ clock }))).toMatchObject({ status: 401 });
  });
});
