// Issue 6's benchmark: from the click on "Join" to the first decoded frame of a remote participant's camera,
// in Chromium through the real web client, the embedded service and a mediasoup worker. Printed beside a
// baseline measured in the same run: two RTCPeerConnections wired directly inside one page (no SFU, no
// signaling), the floor the browser's own ICE/DTLS/encode/decode sets.
//
//   npx tsx bench/join-to-first-frame.ts [--joins 20]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbedded } from "@nexus/server";
import type { Page } from "playwright-core";
import { buildWeb } from "../web/build.mjs";
import { freeRtcPorts, joinMeeting, launchChromium, selfId, signIn, waitUntil } from "../web/test/browser.js";

const argIndex = process.argv.indexOf("--joins");
const JOINS = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 20;
const TARGET_MEDIAN_MS = 500;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const summary = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    min: sorted[0]!,
    max: sorted.at(-1)!,
  };
};

// In-page code is passed as source text: tsx's transform would wrap named functions in a __name() helper
// that does not exist in the page.
const CLICK_JOIN_UNTIL_FIRST_FRAME = `(hostId) => new Promise((resolve, reject) => {
  const selector = '[data-testid="tile-' + hostId + '"][data-source="camera"] video';
  const timer = setTimeout(() => reject(new Error("no remote frame within 20 s")), 20000);
  let watched = null;
  let started = 0;
  const observer = new MutationObserver(() => {
    const video = document.querySelector(selector);
    if (!video || video === watched) return;
    watched = video;
    video.requestVideoFrameCallback(() => {
      clearTimeout(timer);
      observer.disconnect();
      const marks = {};
      for (const m of performance.getEntriesByType("mark")) if (m.name.startsWith("nexus:")) marks[m.name.slice(6)] = m.startTime - started;
      resolve({ ms: performance.now() - started, marks });
    });
  });
  observer.observe(document.body, { subtree: true, childList: true, attributes: true });
  const button = document.querySelector('[data-testid="join-button"]');
  if (!button) return reject(new Error("no join button"));
  performance.clearMarks();
  started = performance.now();
  performance.mark("nexus:click");
  button.click();
})`;

/** The baseline: a direct loopback call inside one page, from createOffer to the first presented frame. */
const LOOPBACK_FIRST_FRAME = `async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } });
  const started = performance.now();
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  for (const track of stream.getTracks()) a.addTrack(track, stream);
  const video = document.createElement("video");
  video.muted = true;
  document.body.append(video);
  const first = new Promise((resolve) => {
    b.ontrack = (e) => {
      video.srcObject = new MediaStream([e.track]);
      void video.play();
      video.requestVideoFrameCallback(() => resolve(performance.now() - started));
    };
  });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  const ms = await first;
  a.close();
  b.close();
  video.remove();
  for (const track of stream.getTracks()) track.stop();
  return ms;
}`;

/**
 * Clicks Join inside the page and resolves with the milliseconds until the host's camera tile shows its
 * first frame (requestVideoFrameCallback fires once a decoded frame is presented).
 */
/**
 * Clicks Join inside the page and resolves with the milliseconds until the host's camera tile shows its
 * first frame (requestVideoFrameCallback fires once a decoded frame is presented).
 */
const clickJoinUntilFirstFrame = (
  page: Page,
  hostId: string,
): Promise<{ ms: number; marks: Record<string, number> }> =>
  page.evaluate(`(${CLICK_JOIN_UNTIL_FIRST_FRAME})(${JSON.stringify(hostId)})`) as Promise<{
    ms: number;
    marks: Record<string, number>;
  }>;

const loopbackFirstFrame = (page: Page): Promise<number> =>
  page.evaluate(`(${LOOPBACK_FIRST_FRAME})()`) as Promise<number>;

const dataDir = mkdtempSync(join(tmpdir(), "nexus-bench-data-"));
const webDir = mkdtempSync(join(tmpdir(), "nexus-bench-web-"));
await buildWeb({ outdir: webDir });
const rtc = await freeRtcPorts(2);
const server = await startEmbedded({
  port: 0,
  mediaPort: 0,
  host: "127.0.0.1",
  dataDir,
  webDir,
  rtcMinPort: rtc,
  rtcMaxPort: rtc + 1,
  numWorkers: 1,
  handleSignals: false,
  env: { ...process.env, NODE_ENV: "development", LOG_LEVEL: "error", LOG_DIR: "-", MEDIA_BIND: "127.0.0.1" },
});
const chrome = await launchChromium();
try {
  const tenant = `bench-${Date.now().toString(36)}`;
  const { page: host } = await signIn(chrome.browser, server.url, {
    tenant,
    user: "host",
    name: "Host",
    role: "host",
  });
  const { page: guest } = await signIn(chrome.browser, server.url, {
    tenant,
    user: "guest",
    name: "Guest",
    role: "member",
  });
  const token = await host.evaluate(() => sessionStorage.getItem("nexus.token"));
  const created = await fetch(`${server.url}/api/meetings`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ title: "Join benchmark" }),
  });
  const meetingId = ((await created.json()) as { id: string }).id;
  await joinMeeting(host, server.url, meetingId);
  await host.getByTestId("screen-meeting").waitFor();
  const hostId = await waitUntil("host joined", () => selfId(host));

  const baseline: number[] = [];
  const joins: number[] = [];
  const milestones = new Map<string, number[]>();
  // One unmeasured round each: the first join compiles the bundle's code paths and warms the worker.
  for (let i = -1; i < JOINS; i++) {
    const loop = await loopbackFirstFrame(guest);
    await guest.goto(`${server.url}/#/m/${meetingId}`);
    await guest.reload();
    await guest.getByTestId("screen-prejoin").waitFor();
    await waitUntil("devices ready", () => guest.getByTestId("join-button").isEnabled());
    const { ms, marks } = await clickJoinUntilFirstFrame(guest, hostId);
    if (i >= 0) {
      baseline.push(loop);
      joins.push(ms);
      for (const [name, at] of Object.entries(marks))
        milestones.set(name, [...(milestones.get(name) ?? []), at]);
    }
    await guest.getByTestId("btn-leave").click();
    await guest.getByTestId("meeting-over").waitFor();
    // The host sees the guest go before the next one comes, so rooms never hold stale peers.
    await waitUntil(
      "guest gone on the host's page",
      async () => (await host.locator('[data-testid^="tile-"]').count()) === 1,
    );
  }

  const j = summary(joins);
  const b = summary(baseline);
  const fmt = (n: number) => `${n.toFixed(0).padStart(5)} ms`;
  console.log(
    `\njoin-to-first-frame, ${JOINS} joins, Chromium ${chrome.browser.version()}, 1 mediasoup worker`,
  );
  console.log("                                   median      p95      min      max");
  console.log(
    `  Join click -> first remote frame ${fmt(j.median)} ${fmt(j.p95)} ${fmt(j.min)} ${fmt(j.max)}`,
  );
  console.log(
    `  baseline: direct loopback call   ${fmt(b.median)} ${fmt(b.p95)} ${fmt(b.min)} ${fmt(b.max)}`,
  );
  const steps = [...milestones]
    .map(([name, at]) => [name, summary(at).median] as const)
    .sort((x, y) => x[1] - y[1]);
  console.log(
    `  where the median join spends it: ${steps.map(([n, at]) => `${n} ${at.toFixed(0)}`).join(", ")}, frame ${j.median.toFixed(0)} (ms after the click)`,
  );
  console.log(
    `  target median < ${TARGET_MEDIAN_MS} ms: ${j.median < TARGET_MEDIAN_MS ? "met" : "NOT met"}; ` +
      `overhead over the baseline (median): ${(j.median - b.median).toFixed(0)} ms`,
  );
} finally {
  await chrome.close();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(webDir, { recursive: true, force: true });
}
