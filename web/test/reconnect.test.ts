import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Embedded, startEmbedded } from "@nexus/server";
import { freePort, startTcpProxy, type TcpProxy } from "@nexus/testkit";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWeb } from "../build.mjs";
import {
  freeRtcPorts,
  joinMeeting,
  type LaunchedBrowser,
  launchChromium,
  selfId,
  signIn,
  waitForGrowingFrames,
  waitUntil,
} from "./browser.js";

/*
 * Two Chromium pages in one meeting of the real one-process service, whose media host is reached through a
 * TCP proxy the test owns (MEDIA_PUBLIC_URL points at it): the test cuts one page's signaling socket, and
 * reloads that page, and checks what both people see.
 */

let server: Embedded;
let chrome: LaunchedBrowser;
let proxy: TcpProxy;
let dataDir: string;
let webDir: string;
const contexts: BrowserContext[] = [];
const tenant = `rc-${Date.now().toString(36)}`;

async function person(user: string, name: string, role: "host" | "member"): Promise<Page> {
  const { context, page } = await signIn(chrome.browser, server.url, { tenant, user, name, role });
  contexts.push(context);
  return page;
}

async function inMeeting(page: Page): Promise<string> {
  await page.getByTestId("screen-meeting").waitFor();
  return waitUntil("joined", async () => {
    const phase = await page.evaluate(() => window.__nexus.session()?.phase);
    if (phase === "failed") throw new Error(String(await page.getByTestId("meeting-over").textContent()));
    const connected = await page.evaluate(() => window.__nexus.session()?.connection === "connected");
    return phase === "joined" && connected ? selfId(page) : null;
  });
}

/** Opens one more signaling connection through the proxy and returns its number there. */
async function connectionOf(page: Page, join: () => Promise<unknown>): Promise<number> {
  const before = new Set(proxy.open());
  await join();
  await inMeeting(page);
  const mine = proxy.open().filter((n) => !before.has(n));
  if (mine.length !== 1) throw new Error(`expected one new connection, saw ${mine.length}`);
  return mine[0]!;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "nexus-rc-data-"));
  webDir = mkdtempSync(join(tmpdir(), "nexus-rc-web-"));
  await buildWeb({ outdir: webDir, minify: false });
  const rtc = await freeRtcPorts(2);
  const mediaPort = await freePort();
  proxy = await startTcpProxy({ port: mediaPort });
  server = await startEmbedded({
    port: 0,
    mediaPort,
    host: "127.0.0.1",
    dataDir,
    webDir,
    rtcMinPort: rtc,
    rtcMaxPort: rtc + 1,
    numWorkers: 1,
    handleSignals: false,
    env: {
      ...process.env,
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      LOG_DIR: "-",
      MEDIA_BIND: "127.0.0.1",
      MEDIA_PUBLIC_URL: `ws://127.0.0.1:${proxy.port}`,
      RECONNECT_GRACE_MS: "15000",
    },
  });
  chrome = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await chrome?.close();
  await server?.close();
  await proxy?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (webDir) rmSync(webDir, { recursive: true, force: true });
});

describe("a page whose connection to the media host drops", () => {
  let host: Page;
  let guest: Page;
  let hostId: string;
  let guestId: string;
  let guestConn: number;

  const participantRows = (page: Page, id: string) => page.locator(`[data-testid="participant-${id}"]`);
  const chatTexts = (page: Page, text: string) => page.getByTestId("chat-message").filter({ hasText: text });

  beforeAll(async () => {
    host = await person("alice", "Alice", "host");
    guest = await person("bob", "Bob", "member");
    await host.getByTestId("create-title").fill("Flaky Wi-Fi");
    await host.getByTestId("create-submit").click();
    const row = host.locator('[data-testid^="meeting-row-"]', { hasText: "Flaky Wi-Fi" }).first();
    await row.waitFor();
    const meetingId = (await row.getAttribute("data-testid"))!.replace("meeting-row-", "");
    await connectionOf(host, () => joinMeeting(host, server.url, meetingId));
    hostId = (await selfId(host))!;
    guestConn = await connectionOf(guest, () => joinMeeting(guest, server.url, meetingId));
    guestId = (await selfId(guest))!;
    await waitForGrowingFrames(host, guestId, "camera");
    await waitForGrowingFrames(guest, hostId, "camera");
    await guest.getByTestId("chat-input").fill("said before the drop");
    await guest.getByTestId("chat-send").click();
    await waitUntil(
      "chat on the host's page",
      async () => (await chatTexts(host, "said before the drop").count()) === 1,
    );
  }, 90_000);

  it("shows Reconnecting… to the guest and 'reconnecting' to the host, then both decode again as before", async () => {
    proxy.refuse(true);
    proxy.cut(guestConn);
    await guest.getByTestId("reconnecting-banner").waitFor({ state: "visible" });
    await waitUntil(
      "the host shows the guest reconnecting",
      async () => (await participantRows(host, guestId).getAttribute("data-reconnecting")) === "true",
    );
    proxy.refuse(false);
    await guest.getByTestId("reconnecting-banner").waitFor({ state: "hidden", timeout: 20_000 });
    await waitUntil(
      "the host shows the guest connected",
      async () => (await participantRows(host, guestId).getAttribute("data-reconnecting")) === "false",
    );
    expect(await selfId(guest)).toBe(guestId);
    await waitForGrowingFrames(host, guestId, "camera");
    await waitForGrowingFrames(guest, hostId, "camera");
    expect(await participantRows(host, guestId).count()).toBe(1);
    expect(await host.getByTestId("participant-count").textContent()).toBe("2");
    expect(await guest.getByTestId("participant-count").textContent()).toBe("2");
    expect(await chatTexts(host, "said before the drop").count()).toBe(1);
    expect(await chatTexts(guest, "said before the drop").count()).toBe(1);
  });

  it("takes a reloaded page back into the meeting as the same participant, still muted", async () => {
    await guest.getByTestId("btn-mute").click();
    await waitUntil(
      "muted",
      async () => (await guest.getByTestId("btn-mute").getAttribute("aria-pressed")) === "true",
    );
    await guest.reload();
    expect(await inMeeting(guest)).toBe(guestId);
    await waitUntil(
      "still muted after the reload",
      async () => (await guest.getByTestId("btn-mute").getAttribute("aria-pressed")) === "true",
    );
    await waitUntil(
      "the host sees the guest muted",
      async () =>
        (await host
          .locator(`[data-testid="tile-${guestId}"][data-source="camera"]`)
          .getAttribute("data-muted")) === "true",
    );
    await waitForGrowingFrames(host, guestId, "camera");
    await waitForGrowingFrames(guest, hostId, "camera");
    expect(await participantRows(host, guestId).count()).toBe(1);
    expect(await host.getByTestId("participant-count").textContent()).toBe("2");
    const left = await host.evaluate(() => window.__nexus.session()?.signaling.received("participant-left"));
    expect(left).toEqual([]);
    await waitUntil(
      "the chat history on the reloaded page",
      async () => (await chatTexts(guest, "said before the drop").count()) === 1,
    );
  });
});
