import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mintTurnCredential } from "@nexus/platform/turn-credentials";
import { probeIce, probeTurn } from "@nexus/platform/turn-probe";
import { freePort } from "@nexus/testkit";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatReport, hintFor, runConnectivityCheck } from "../../scripts/check/connectivity.js";
import { type Cluster, httpsStatus, startCluster } from "../../scripts/cluster/topology.js";
import { buildWeb } from "../build.mjs";
import {
  joinMeeting,
  type LaunchedBrowser,
  launchChromium,
  selfId,
  signIn,
  waitForGrowingFrames,
  waitUntil,
} from "./browser.js";

/*
 * The deployment's topology as real processes (`npm run cluster`): caddy with its internal CA in front of
 * control (serving this web client) and two media hosts, coturn, PostgreSQL and Redis. Chromium trusts only
 * that CA's keys (--ignore-certificate-errors-spki-list), never certificate errors in general.
 */

let cluster: Cluster;
let chrome: LaunchedBrowser;
let webDir: string;
const contexts: BrowserContext[] = [];
const tenant = `cluster-${Date.now().toString(36)}`;

beforeAll(async () => {
  webDir = mkdtempSync(join(tmpdir(), "nexus-cluster-web-"));
  await buildWeb({ outdir: webDir, minify: false });
  cluster = await startCluster({ mediaHosts: 2, webDir });
  chrome = await launchChromium([`--ignore-certificate-errors-spki-list=${cluster.caSpki.join(",")}`]);
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await chrome?.close();
  await cluster?.stop();
  if (webDir) rmSync(webDir, { recursive: true, force: true });
});

interface Seen {
  sockets: string[];
  joins: Record<string, unknown>[];
}

async function person(
  user: string,
  name: string,
  role: "host" | "member",
): Promise<{ page: Page; seen: Seen }> {
  const { context, page } = await signIn(chrome.browser, cluster.origin, { tenant, user, name, role });
  contexts.push(context);
  const seen: Seen = { sockets: [], joins: [] };
  page.on("websocket", (ws) => seen.sockets.push(ws.url()));
  page.on("response", async (res) => {
    if (/\/api\/meetings\/[^/]+\/join$/.test(new URL(res.url()).pathname) && res.ok())
      seen.joins.push((await res.json()) as Record<string, unknown>);
  });
  return { page, seen };
}

async function joined(page: Page): Promise<string> {
  await page.getByTestId("screen-meeting").waitFor();
  return waitUntil("joined", async () => {
    const phase = await page.evaluate(() => window.__nexus.session()?.phase);
    if (phase === "failed") throw new Error(String(await page.getByTestId("meeting-over").textContent()));
    return phase === "joined" ? selfId(page) : null;
  });
}

describe("the cluster behind one HTTPS origin", () => {
  it("serves /health and each media host's signaling under /media/<host-id>, over TLS from the internal CA", async () => {
    expect(await httpsStatus(`${cluster.origin}/health`, cluster.caPem)).toBe(200);
    for (const host of cluster.media) {
      expect(await httpsStatus(`${cluster.origin}/media/${host.id}/health`, cluster.caPem)).toBe(200);
    }
    // Metrics stay inside the network.
    expect(await httpsStatus(`${cluster.origin}/metrics`, cluster.caPem)).toBe(404);
    expect(await httpsStatus(`${cluster.origin}/media/media-1/metrics`, cluster.caPem)).toBe(404);
    // Without the CA the origin is not trusted: the test trusts exactly caddy's authority.
    expect(await httpsStatus(`${cluster.origin}/health`, "")).toBe(0);
  });

  it("two people signed in over HTTPS decode each other through the proxy's WebSocket path", async () => {
    const alice = await person("alice", "Alice", "host");
    await alice.page.getByTestId("create-title").fill("Through the proxy");
    await alice.page.getByTestId("create-submit").click();
    const row = alice.page.locator('[data-testid^="meeting-row-"]', { hasText: "Through the proxy" }).first();
    await row.waitFor();
    const meetingId = (await row.getAttribute("data-testid"))!.replace("meeting-row-", "");
    const bob = await person("bob", "Bob", "member");

    await joinMeeting(alice.page, cluster.origin, meetingId);
    const aliceId = await joined(alice.page);
    await joinMeeting(bob.page, cluster.origin, meetingId);
    const bobId = await joined(bob.page);

    await waitForGrowingFrames(alice.page, bobId, "camera");
    await waitForGrowingFrames(bob.page, aliceId, "camera");

    for (const { seen } of [alice, bob]) {
      const signaling = seen.sockets.filter((url) => url.includes("/media/"));
      expect(signaling.length).toBeGreaterThan(0);
      expect(signaling[0]).toMatch(
        new RegExp(`^wss://127\\.0\\.0\\.1:${new URL(cluster.origin).port}/media/media-[12]\\?token=`),
      );
      // The join answer hands the TURN servers with a credential bound to this participant.
      const answer = seen.joins.at(-1)!;
      const [ice] = answer.ice_servers as { urls: string[]; username: string }[];
      expect(ice!.urls).toContain(`turn:${cluster.turn.host}:${cluster.turn.port}?transport=tcp`);
      expect(ice!.username).toMatch(new RegExp(`^\\d+:${answer.participant_id}$`));
    }
  });

  it("the connectivity check finds every path working: API, signaling, ICE over UDP and TCP, TURN over UDP and TCP", async () => {
    const token = await new Promise<string>((resolve, reject) => {
      const req = request(
        `${cluster.origin}/dev/token`,
        { method: "POST", ca: cluster.caPem, headers: { "content-type": "application/json" } },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => {
            text += c.toString();
          });
          res.on("end", () => resolve((JSON.parse(text) as { token: string }).token));
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify({ tenant_id: tenant, sub: "checker", role: "host" }));
    });
    const report = await runConnectivityCheck({ origin: cluster.origin, token, ca: cluster.caPem });
    const summary = formatReport(report);
    expect(
      report.results.map((r) => [r.path, r.ok]),
      summary,
    ).toEqual([
      ["api", true],
      ["signaling", true],
      ["ice-udp", true],
      ["ice-tcp", true],
      ["turn-udp", true],
      ["turn-tcp", true],
    ]);
    expect(cluster.media.map((m) => m.id)).toContain(report.hostId);
    for (const r of report.results) expect(r.rttMs).toBeGreaterThan(0);
  });

  it("the check's probes tell a blocked path and a bad credential apart, in plain words", async () => {
    const media = cluster.media[0]!;
    // Nothing answers on this UDP port: what a firewall that drops UDP looks like.
    const closed = await freePort();
    const silent = await probeIce({
      host: "127.0.0.1",
      port: closed,
      transport: "udp",
      usernameFragment: "x",
      password: "y",
      timeoutMs: 1500,
    });
    expect(silent).toMatchObject({ ok: false, failure: "timeout" });
    expect(hintFor("ice-udp", `127.0.0.1:${closed}`, silent)).toBe(
      `UDP ${closed} on 127.0.0.1 looks blocked: open it or rely on TURN`,
    );
    // The media host answers, but not to a stranger's ICE credentials.
    const stranger = await probeIce({
      host: "127.0.0.1",
      port: media.webRtcPort,
      transport: "tcp",
      usernameFragment: "nosuchufrag",
      password: "wrong",
      timeoutMs: 1500,
    });
    expect(stranger.ok).toBe(false);
    // coturn refuses a credential past its TTL; the hint names the secret and the clocks.
    const old = mintTurnCredential(cluster.turn.secret, "someone", 60, new Date(Date.now() - 120_000));
    const target = `${cluster.turn.host}:${cluster.turn.port}`;
    const refused = await probeTurn({
      host: cluster.turn.host,
      port: cluster.turn.port,
      transport: "tcp",
      ...old,
    });
    expect(refused).toMatchObject({ ok: false, failure: "rejected", code: 401 });
    expect(hintFor("turn-tcp", target, refused)).toMatch(/refused the credential: TURN_SECRET differs/);
  });
});
