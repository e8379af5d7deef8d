import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Database } from "@nexus/drizzle";
import { mintTurnCredential } from "@nexus/platform/turn-credentials";
import { probeTurn } from "@nexus/platform/turn-probe";
import { type RunningTurnServer, startTurnServer } from "@nexus/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadControlConfig } from "../src/config.js";
import {
  BACKENDS,
  call,
  freshTenant,
  host,
  makeApp,
  type TestApp,
  TestClock,
  testConfig,
  userToken,
} from "./harness.js";

const TURN_SECRET = "turn-test-secret-0123456789abcdef";

describe("TURN configuration", () => {
  it("is off unless both TURN_SECRET and TURN_URLS are set", () => {
    expect(loadControlConfig({}).turn).toBeNull();
    expect(() => loadControlConfig({ TURN_SECRET: TURN_SECRET })).toThrow(/TURN_SECRET and TURN_URLS/);
    expect(() => loadControlConfig({ TURN_URLS: "turn:turn.example:3478" })).toThrow(ConfigError);
  });

  it("reads the URLs as a list, with a 12-hour default TTL", () => {
    const c = loadControlConfig({
      TURN_SECRET,
      TURN_URLS:
        "turn:turn.example:3478?transport=udp, turn:turn.example:3478?transport=tcp,turns:turn.example:443",
    });
    expect(c.turn).toEqual({
      secret: TURN_SECRET,
      urls: [
        "turn:turn.example:3478?transport=udp",
        "turn:turn.example:3478?transport=tcp",
        "turns:turn.example:443",
      ],
      ttlSeconds: 43_200,
    });
    expect(
      loadControlConfig({ TURN_SECRET, TURN_URLS: "turn:a:3478", TURN_TTL_SECONDS: "300" }).turn?.ttlSeconds,
    ).toBe(300);
  });

  it("refuses what is not a TURN or STUN URL, a too-short TTL, and a short secret in production", () => {
    expect(() => loadControlConfig({ TURN_SECRET, TURN_URLS: "https://turn.example" })).toThrow(/TURN_URLS/);
    expect(() => loadControlConfig({ TURN_SECRET, TURN_URLS: "turn:a:3478", TURN_TTL_SECONDS: "5" })).toThrow(
      /TURN_TTL_SECONDS/,
    );
    expect(() =>
      loadControlConfig({
        NODE_ENV: "production",
        JWT_SECRET: "x".repeat(40),
        TURN_SECRET: "short-secret",
        TURN_URLS: "turn:a:3478",
      }),
    ).toThrow(/TURN_SECRET must be at least 32/);
  });
});

describe("TURN credentials", () => {
  it("follow the TURN REST API scheme: <expiry>:<user>, base64 HMAC-SHA1 of it", () => {
    // Known answer computed with `openssl dgst -sha1 -hmac secret-a -binary | base64`.
    const c = mintTurnCredential("secret-a", "p1", 3600, new Date(1_893_488_400_000));
    expect(c.username).toBe("1893492000:p1");
    expect(c.credential).toBe("wuaF3NDZo9oGe66cvpljCgflmlg=");
    expect(c.expiresAt.toISOString()).toBe("2030-01-01T10:00:00.000Z");
  });
});

let database: Database;
beforeAll(async () => {
  database = (await BACKENDS[0]!.open()).database;
});
afterAll(() => database.close());

describe("the join answer", () => {
  let plain: TestApp;
  let withTurn: TestApp;
  const clock = new TestClock();
  beforeAll(async () => {
    plain = makeApp(database, { clock });
    withTurn = makeApp(database, {
      clock,
      registry: plain.registry,
      config: testConfig({
        TURN_SECRET,
        TURN_URLS: "turn:127.0.0.1:3478,turns:turn.example:443",
        TURN_TTL_SECONDS: "600",
      }),
    });
    await plain.registry.upsert(host("host-a", { clock }));
  });

  async function joinOn(t: TestApp) {
    const tenant = freshTenant();
    const token = await userToken({ tenant, sub: "alice", role: "host", clock });
    const made = await call(t, "POST", "/api/meetings", { token, body: { title: "TURN" } });
    return call(t, "POST", `/api/meetings/${made.body.id}/join`, { token, body: {} });
  }

  it("carries no ice_servers without TURN", async () => {
    const res = await joinOn(plain);
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty("ice_servers");
  });

  it("carries the TURN URLs with a credential bound to the participant and the TTL", async () => {
    const res = await joinOn(withTurn);
    expect(res.status).toBe(200);
    const expected = mintTurnCredential(TURN_SECRET, res.body.participant_id, 600, clock.now());
    expect(res.body.ice_servers).toEqual([
      {
        urls: ["turn:127.0.0.1:3478", "turns:turn.example:443"],
        username: `${clock.seconds + 600}:${res.body.participant_id}`,
        credential: expected.credential,
      },
    ]);
  });

  it("gives a guest joining through a guest link the same short-lived TURN credentials", async () => {
    const tenant = freshTenant();
    const token = await userToken({ tenant, sub: "alice", role: "host", clock });
    const made = await call(withTurn, "POST", "/api/meetings", { token, body: { title: "TURN guests" } });
    const link = await call(withTurn, "POST", `/api/meetings/${made.body.id}/guest-links`, {
      token,
      body: {},
    });
    expect(link.status).toBe(201);
    const res = await call(withTurn, "POST", "/guest/join", {
      body: { token: link.body.token, display_name: "Visitor" },
    });
    expect(res.status).toBe(200);
    const expected = mintTurnCredential(TURN_SECRET, res.body.participant_id, 600, clock.now());
    expect(res.body.ice_servers).toEqual([
      {
        urls: ["turn:127.0.0.1:3478", "turns:turn.example:443"],
        username: `${clock.seconds + 600}:${res.body.participant_id}`,
        credential: expected.credential,
      },
    ]);
  });
});

describe("coturn", () => {
  let turn: RunningTurnServer;
  let certDir: string;
  let certPem: string;
  beforeAll(async () => {
    // A certificate of its own for coturn's TLS listener (a deployment uses the proxy's).
    certDir = mkdtempSync(join(tmpdir(), "nexus-turn-cert-"));
    const [cert, key] = [join(certDir, "cert.pem"), join(certDir, "key.pem")];
    const made = spawnSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=turn.test",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      { encoding: "utf8" },
    );
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
    certPem = readFileSync(cert, "utf8");
    turn = await startTurnServer({ secret: TURN_SECRET, tls: { cert, key } });
  });
  afterAll(async () => {
    await turn?.stop();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  it("allocates a relay over TLS, verifying the server's certificate", async () => {
    const { username, credential } = mintTurnCredential(TURN_SECRET, "participant-tls", 600, new Date());
    const tls = await probeTurn({
      host: turn.host,
      port: turn.tlsPort!,
      transport: "tls",
      username,
      credential,
      ca: certPem,
    });
    expect(tls, `${JSON.stringify(tls)}\n${turn.output()}`).toMatchObject({ ok: true });
    // Without trusting that certificate the handshake fails: nothing is sent to an unverified server.
    const untrusted = await probeTurn({
      host: turn.host,
      port: turn.tlsPort!,
      transport: "tls",
      username,
      credential,
    });
    expect(untrusted).toMatchObject({ ok: false, failure: "refused" });
  });

  const probe = (transport: "udp" | "tcp", username: string, credential: string) =>
    probeTurn({ host: turn.host, port: turn.port, transport, username, credential });

  it("allocates a relay over UDP and TCP for a fresh credential", async () => {
    const { username, credential } = mintTurnCredential(TURN_SECRET, "participant-1", 600, new Date());
    for (const transport of ["udp", "tcp"] as const) {
      const result = await probe(transport, username, credential);
      expect(result, `${transport}: ${JSON.stringify(result)}\n${turn.output()}`).toMatchObject({ ok: true });
      if (result.ok) expect(result.relayed?.address).toBe("127.0.0.1");
    }
  });

  it("refuses a credential past its TTL, and one made with another secret", async () => {
    const old = mintTurnCredential(TURN_SECRET, "participant-2", 600, new Date(Date.now() - 601_000));
    expect(await probe("udp", old.username, old.credential)).toMatchObject({
      ok: false,
      failure: "rejected",
      code: 401,
    });
    const forged = mintTurnCredential("another-secret-0123456789abcdef", "participant-3", 600, new Date());
    expect(await probe("tcp", forged.username, forged.credential)).toMatchObject({
      ok: false,
      failure: "rejected",
      code: 401,
    });
  });

  it("accepts the credential of a real join answer", async () => {
    {
      const clock = new TestClock(Date.now());
      const t = makeApp(database, {
        clock,
        config: testConfig({ TURN_SECRET, TURN_URLS: `turn:${turn.host}:${turn.port}` }),
      });
      await t.registry.upsert(host("host-a", { clock }));
      const token = await userToken({ tenant: freshTenant(), sub: "bob", role: "host", clock });
      const made = await call(t, "POST", "/api/meetings", { token, body: { title: "TURN" } });
      const res = await call(t, "POST", `/api/meetings/${made.body.id}/join`, { token, body: {} });
      const [server] = res.body.ice_servers;
      expect((await probe("udp", server.username, server.credential)).ok).toBe(true);
    }
  });
});
