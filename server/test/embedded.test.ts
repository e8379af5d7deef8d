import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Embedded, startEmbedded } from "../src/embedded.js";

const quiet = { LOG_LEVEL: "warn", LOG_DIR: "-", MEDIA_BIND: "127.0.0.1" };
let rtcBase = 28_000 + Math.floor(Math.random() * 1_000) * 2;
const nextRtc = () => {
  rtcBase += 2;
  return rtcBase;
};

function tempDirs() {
  const dataDir = mkdtempSync(join(tmpdir(), "nexus-embedded-data-"));
  const webDir = mkdtempSync(join(tmpdir(), "nexus-embedded-web-"));
  writeFileSync(join(webDir, "index.html"), "<!doctype html><title>NEXUS Meet</title>");
  writeFileSync(join(webDir, "app.js"), "console.log('app')");
  mkdirSync(join(dataDir, "secret"), { recursive: true });
  writeFileSync(join(dataDir, "secret", "file.txt"), "do not serve");
  return { dataDir, webDir };
}

async function start(
  env: Record<string, string>,
  dirs: ReturnType<typeof tempDirs>,
  port = 0,
  host = "127.0.0.1",
): Promise<Embedded> {
  const rtc = nextRtc();
  return startEmbedded({
    port,
    mediaPort: 0,
    host,
    dataDir: dirs.dataDir,
    webDir: dirs.webDir,
    rtcMinPort: rtc,
    rtcMaxPort: rtc + 1,
    numWorkers: 1,
    handleSignals: false,
    env: { ...process.env, ...quiet, ...env },
  });
}

/** An address of this machine that is not loopback: a client using it is, to the server, another machine. */
function outsideAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  throw new Error("this machine has no non-loopback IPv4 address to test the dev sign-in from");
}

describe("the embedded service in development", () => {
  let app: Embedded;
  const dirs = tempDirs();

  beforeAll(async () => {
    // Bound to every interface, as a careless deployment would be.
    app = await start({ NODE_ENV: "development" }, dirs, 0, "0.0.0.0");
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dirs.dataDir, { recursive: true, force: true });
    rmSync(dirs.webDir, { recursive: true, force: true });
  });

  it("serves the web client at / and its files by name", async () => {
    const page = await fetch(`${app.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("NEXUS Meet");
    const script = await fetch(`${app.url}/app.js`);
    expect(script.headers.get("content-type")).toContain("javascript");
  });

  it("never serves files outside the bundle, however the path is spelled", async () => {
    for (const path of ["/../secret/file.txt", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd"]) {
      const res = await fetch(`${app.url}${path}`);
      expect(await res.text()).not.toMatch(/do not serve|root:/);
    }
  });

  it("keeps the API behind a bearer token", async () => {
    const res = await fetch(`${app.url}/api/meetings`);
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("unauthorized");
  });

  it("mints a development token that the API accepts, and joining places the meeting on this media host", async () => {
    const minted = await fetch(`${app.url}/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenant_id: "acme", sub: "ann", role: "host", name: "Ann" }),
    });
    expect(minted.status).toBe(200);
    const { token } = await minted.json();
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const created = await fetch(`${app.url}/api/meetings`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ title: "Embedded" }),
    });
    expect(created.status).toBe(201);
    const meeting = await created.json();
    expect(meeting).toMatchObject({ tenant_id: "acme", created_by: "ann", title: "Embedded" });

    const joined = await fetch(`${app.url}/api/meetings/${meeting.id}/join`, {
      method: "POST",
      headers: auth,
      body: "{}",
    });
    expect(joined.status).toBe(200);
    const answer = await joined.json();
    expect(answer.ws_url).toBe(app.media.wsUrl);
    expect(answer.host_id).toBe(app.media.hostId);
    expect(answer.role).toBe("host");
  });

  it("never mints a development token for another machine or through a proxy, and caps its body", async () => {
    const body = JSON.stringify({ tenant_id: "acme", sub: "eve", role: "admin" });
    const post = (base: string, headers: Record<string, string> = {}, payload = body) =>
      fetch(`${base}/dev/token`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: payload,
      });
    const remote = `http://${outsideAddress()}:${app.port}`;
    const fromOutside = await post(remote);
    expect(fromOutside.status).toBe(403);
    const refused = await fromOutside.json();
    expect(refused.error.code).toBe("forbidden");
    expect(JSON.stringify(refused)).not.toMatch(/eyJ/);
    // The page is told there is no development sign-in, so it shows none.
    expect((await (await fetch(`${remote}/dev/info`)).json()).dev).toBe(false);
    expect((await (await fetch(`${app.url}/dev/info`)).json()).dev).toBe(true);
    // A reverse proxy on this machine makes everyone look local: its headers disqualify the request.
    expect((await post(app.url, { "x-forwarded-for": "203.0.113.9" })).status).toBe(403);
    expect((await post(app.url, { forwarded: "for=203.0.113.9" })).status).toBe(403);
    const huge = JSON.stringify({ tenant_id: "acme", sub: "ann", name: "x".repeat(10_000) });
    const tooBig = await post(app.url, {}, huge);
    expect(tooBig.status).toBe(413);
    expect((await tooBig.json()).error.code).toBe("payload_too_large");
  });

  it("refuses a dev token request without tenant or user", async () => {
    const res = await fetch(`${app.url}/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ role: "host" }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("validation_failed");
  });

  it("answers health from the shared database and bus", async () => {
    const res = await fetch(`${app.url}/health`);
    expect(res.status).toBe(200);
    expect((await res.json()).checks.database.status).toBe("ok");
  });
});

describe("the embedded service in production", () => {
  it("has no development token route", async () => {
    const dirs = tempDirs();
    const app = await start(
      {
        NODE_ENV: "production",
        JWT_SECRET: "a-production-secret-that-is-long-enough-0123",
        JOIN_TOKEN_SECRET: "another-production-secret-long-enough-4567",
      },
      dirs,
    );
    try {
      const res = await fetch(`${app.url}/dev/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ tenant_id: "acme", sub: "eve", role: "admin" }),
      });
      expect(res.status).toBe(404);
    } finally {
      await app.close();
      rmSync(dirs.dataDir, { recursive: true, force: true });
      rmSync(dirs.webDir, { recursive: true, force: true });
    }
  });

  it("refuses to start with the development secret", async () => {
    const dirs = tempDirs();
    await expect(start({ NODE_ENV: "production" }, dirs)).rejects.toThrow(/JWT_SECRET/);
    rmSync(dirs.dataDir, { recursive: true, force: true });
    rmSync(dirs.webDir, { recursive: true, force: true });
  });
});

describe("closing", () => {
  it("is idempotent and frees the ports and the database for the next start", async () => {
    const dirs = tempDirs();
    const first = await start({ NODE_ENV: "development" }, dirs);
    const port = first.port;
    await Promise.all([first.close(), first.close()]);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    // The same PGlite directory opens again: the first instance let go of it.
    const second = await start({ NODE_ENV: "development" }, dirs, port);
    try {
      const res = await fetch(`${second.url}/health`);
      expect(res.status).toBe(200);
    } finally {
      await second.close();
      rmSync(dirs.dataDir, { recursive: true, force: true });
      rmSync(dirs.webDir, { recursive: true, force: true });
    }
  });
});
