import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Embedded, startEmbedded } from "@nexus/server";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildWeb } from "../build.mjs";
import {
  framesOf,
  freeRtcPorts,
  joinMeeting,
  type LaunchedBrowser,
  launchChromium,
  screenshot,
  selfId,
  signIn,
  waitForGrowingFrames,
  waitUntil,
} from "./browser.js";

/*
 * The web client against the real one-process service: PGlite, in-process bus, a real mediasoup worker,
 * and Chromium with a fake camera. Each person is a separate browser context, as two people would be.
 */

let server: Embedded;
let chrome: LaunchedBrowser;
let dataDir: string;
let webDir: string;
const contexts: BrowserContext[] = [];
const tenant = `e2e-${Date.now().toString(36)}`;

async function person(user: string, name: string, role: "host" | "member" = "member"): Promise<Page> {
  const { context, page } = await signIn(chrome.browser, server.url, { tenant, user, name, role });
  contexts.push(context);
  return page;
}

/** Creates a meeting through the page's form and returns its id. */
async function createMeeting(
  page: Page,
  title: string,
  options: { password?: string; lobby?: boolean } = {},
): Promise<string> {
  await page.getByTestId("create-title").fill(title);
  if (options.password) await page.getByTestId("create-password").fill(options.password);
  if (options.lobby) await page.getByTestId("create-lobby").check();
  await page.getByTestId("create-submit").click();
  const row = page.locator('[data-testid^="meeting-row-"]', { hasText: title }).first();
  await row.waitFor();
  const testId = await row.getAttribute("data-testid");
  return testId!.replace("meeting-row-", "");
}

async function inMeeting(page: Page): Promise<string> {
  await page.getByTestId("screen-meeting").waitFor();
  return waitUntil("joined", async () => {
    const phase = await page.evaluate(() => window.__nexus.session()?.phase);
    if (phase === "failed") throw new Error(String(await page.getByTestId("meeting-over").textContent()));
    return phase === "joined" ? selfId(page) : null;
  });
}

/** Waits for an attribute to take a value (the UI updates after a server round trip). */
const attributeBecomes = (locator: Locator, name: string, value: string) =>
  waitUntil(`${name}=${value}`, async () => (await locator.getAttribute(name)) === value);

const tileOf = (page: Page, participantId: string, source: "camera" | "screen") =>
  page.locator(`[data-testid="tile-${participantId}"][data-source="${source}"]`);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "nexus-e2e-data-"));
  webDir = mkdtempSync(join(tmpdir(), "nexus-e2e-web-"));
  await buildWeb({ outdir: webDir, minify: false });
  const rtc = await freeRtcPorts(2);
  server = await startEmbedded({
    port: 0,
    mediaPort: 0,
    host: "127.0.0.1",
    dataDir,
    webDir,
    rtcMinPort: rtc,
    rtcMaxPort: rtc + 1,
    numWorkers: 1,
    handleSignals: false,
    env: { ...process.env, NODE_ENV: "test", LOG_LEVEL: "warn", LOG_DIR: "-", MEDIA_BIND: "127.0.0.1" },
  });
  chrome = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await chrome?.close();
  await server?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (webDir) rmSync(webDir, { recursive: true, force: true });
});

describe("two people in one meeting", () => {
  let host: Page;
  let guest: Page;
  let hostId: string;
  let guestId: string;
  let meetingId: string;

  beforeAll(async () => {
    host = await person("alice", "Alice", "host");
    guest = await person("bob", "Bob");
    meetingId = await createMeeting(host, "Weekly sync");
    await joinMeeting(host, server.url, meetingId);
    hostId = await inMeeting(host);
    await joinMeeting(guest, server.url, meetingId);
    guestId = await inMeeting(guest);
  }, 90_000);

  it("each page decodes the other's camera video", async () => {
    await tileOf(host, guestId, "camera").waitFor();
    await tileOf(guest, hostId, "camera").waitFor();
    expect(await waitForGrowingFrames(host, guestId, "camera")).toBeGreaterThan(5);
    expect(await waitForGrowingFrames(guest, hostId, "camera")).toBeGreaterThan(5);
    // The <video> element itself renders frames, not just the decoder behind it.
    const rendered = await waitUntil("frames rendered in the guest's tile", () =>
      tileOf(host, guestId, "camera")
        .locator("video")
        .evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames),
    );
    expect(rendered).toBeGreaterThan(0);
    expect(await host.getByTestId("participant-count").textContent()).toBe("2");
    await screenshot(host, "meeting-two-people-host");
    await screenshot(guest, "meeting-two-people-guest");
  });

  it("shows the guest as muted on the host's page after the guest presses Mute, and unmuted after Unmute", async () => {
    await guest.getByTestId("btn-mute").click();
    await attributeBecomes(guest.getByTestId("btn-mute"), "aria-pressed", "true");
    await waitUntil(
      "muted on the host's page",
      async () => (await tileOf(host, guestId, "camera").getAttribute("data-muted")) === "true",
    );
    await guest.getByTestId("btn-mute").click();
    await waitUntil(
      "unmuted on the host's page",
      async () => (await tileOf(host, guestId, "camera").getAttribute("data-muted")) === "false",
    );
  });

  it("shows the host's shared screen to the guest", async () => {
    await host.getByTestId("btn-screen").click();
    await attributeBecomes(host.getByTestId("btn-screen"), "aria-pressed", "true");
    await tileOf(guest, hostId, "screen").waitFor({ timeout: 20_000 });
    expect(await waitForGrowingFrames(guest, hostId, "screen")).toBeGreaterThan(5);
    await screenshot(guest, "meeting-screen-share-guest");
    await host.getByTestId("btn-screen").click();
    await waitUntil("screen tile gone", async () => (await tileOf(guest, hostId, "screen").count()) === 0);
    // The camera keeps flowing after the share ends.
    const before = await framesOf(guest, hostId, "camera");
    await waitUntil(
      "camera frames still growing",
      async () => (await framesOf(guest, hostId, "camera")) > before,
    );
  });

  it("delivers a chat message sent on one page to the other, with the sender's name", async () => {
    await guest.getByTestId("chat-input").fill("Hello from Bob");
    await guest.getByTestId("chat-send").click();
    const error = guest.getByTestId("chat-error");
    const received = host.getByTestId("chat-message").filter({ hasText: "Hello from Bob" });
    await waitUntil("chat on the host's page", async () => {
      if (await error.isVisible()) throw new Error(`chat refused: ${await error.textContent()}`);
      return (await received.count()) === 1;
    });
    expect(await received.textContent()).toContain("Bob");
    expect(await guest.getByTestId("chat-message").filter({ hasText: "Hello from Bob" }).count()).toBe(1);
  });

  it("the host sees a raised hand and can lower it", async () => {
    await guest.getByTestId("btn-hand").click();
    await waitUntil("hand on the host's page", async () => {
      const error = guest.getByTestId("meeting-error");
      if (await error.isVisible()) throw new Error(`hand refused: ${await error.textContent()}`);
      return (await host.getByTestId(`participant-${guestId}`).getAttribute("data-hand")) === "true";
    });
    await host.getByTestId(`lower-hand-${guestId}`).click();
    await waitUntil(
      "hand lowered on the guest's page",
      async () => (await guest.getByTestId("btn-hand").getAttribute("aria-pressed")) === "false",
    );
  });

  it("lets the host mute the guest", async () => {
    await host.getByTestId(`mute-${guestId}`).click();
    await waitUntil("guest muted by host", async () => {
      const error = host.getByTestId("participants-error");
      if (await error.isVisible()) throw new Error(`mute refused: ${await error.textContent()}`);
      return (await guest.getByTestId("btn-mute").getAttribute("aria-pressed")) === "true";
    });
    await attributeBecomes(tileOf(host, guestId, "camera"), "data-muted", "true");
  });

  it("lets the host turn the guest's camera off", async () => {
    await host.getByTestId(`stop-video-${guestId}`).click();
    await attributeBecomes(guest.getByTestId("btn-video"), "aria-pressed", "true");
    await attributeBecomes(tileOf(host, guestId, "camera"), "data-video", "false");
    expect(await guest.getByTestId("moderation").textContent()).toBe("Alice turned your camera off.");
  });

  it("delivers a private message to its recipient only, marked private", async () => {
    await host.getByTestId("chat-to").selectOption(guestId);
    await host.getByTestId("chat-input").fill("Just for Bob");
    await host.getByTestId("chat-send").click();
    const received = guest.getByTestId("chat-message").filter({ hasText: "Just for Bob" });
    await waitUntil("private message on the guest's page", async () => (await received.count()) === 1);
    expect(await received.textContent()).toContain("private");
    expect(await guest.getByTestId("chat-to").isVisible()).toBe(true);
  });

  it("removes the guest's tile from the host's page when the guest leaves", async () => {
    await guest.getByTestId("btn-leave").click();
    await guest.getByTestId("meeting-over").waitFor();
    await waitUntil("guest tile gone", async () => (await tileOf(host, guestId, "camera").count()) === 0);
  });
});

describe("admission", () => {
  // Each test here brings its own people: close their browsers when it ends, so the next test does not
  // share the machine with pages still in meetings.
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => {});
  });

  it("tells a guest with the wrong password so, and lets them in with the right one", async () => {
    const host = await person("carol", "Carol", "host");
    const guest = await person("dave", "Dave");
    const meetingId = await createMeeting(host, "Board meeting", { password: "s3cret" });
    await joinMeeting(guest, server.url, meetingId, { password: "nope" });
    await guest.getByTestId("join-error").waitFor();
    expect(await guest.getByTestId("join-error").textContent()).toBe("Wrong meeting password.");
    await guest.getByTestId("join-password").fill("s3cret");
    await guest.getByTestId("join-button").click();
    expect(await inMeeting(guest)).toBeTruthy();
    await guest.getByTestId("btn-leave").click();
  });

  it("explains a full, a locked and an ended meeting on the pre-join screen", async () => {
    const host = await person("gina", "Gina", "host");
    const guest = await person("hank", "Hank");
    const token = await host.evaluate(() => sessionStorage.getItem("nexus.token"));
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? null : JSON.stringify(body),
      }).then(async (res) => ({ status: res.status, body: await res.json() }));
    const refusal = async (meetingId: string) => {
      await joinMeeting(guest, server.url, meetingId);
      const error = guest.getByTestId("join-error");
      return waitUntil("join refused", async () => (await error.isVisible()) && error.textContent());
    };

    const full = await api("POST", "/api/meetings", { title: "Tiny", max_participants: 1 });
    expect(full.status).toBe(201);
    await joinMeeting(host, server.url, full.body.id);
    await inMeeting(host);
    expect(await refusal(full.body.id)).toBe("The meeting is full.");
    await host.getByTestId("btn-leave").click();

    const locked = await api("POST", "/api/meetings", { title: "Closed door" });
    expect((await api("PUT", `/api/meetings/${locked.body.id}`, { locked: true })).status).toBe(200);
    expect(await refusal(locked.body.id)).toBe("The meeting is locked by its host.");

    const ended = await api("POST", "/api/meetings", { title: "Over" });
    await api("POST", `/api/meetings/${ended.body.id}/start`);
    expect((await api("POST", `/api/meetings/${ended.body.id}/end`)).status).toBe(200);
    expect(await refusal(ended.body.id)).toBe("The meeting has ended.");
  });

  it("tells a removed guest why, and keeps them out when they try to join again", async () => {
    const host = await person("ivan", "Ivan", "host");
    const guest = await person("judy", "Judy");
    const meetingId = await createMeeting(host, "Removal");
    await joinMeeting(host, server.url, meetingId);
    await inMeeting(host);
    await joinMeeting(guest, server.url, meetingId);
    const guestId = await inMeeting(guest);
    const remove = host.getByTestId(`remove-${guestId}`);
    await remove.waitFor();
    await remove.click();
    await guest.getByTestId("meeting-over").waitFor();
    expect(await guest.getByTestId("meeting-over-reason").textContent()).toBe(
      "You were removed from the meeting by Ivan.",
    );
    await waitUntil("guest gone from the host's list", async () => (await remove.count()) === 0);

    await guest.getByTestId("back-to-meetings").click();
    await guest.getByTestId("screen-meetings").waitFor();
    await joinMeeting(guest, server.url, meetingId);
    const error = guest.getByTestId("join-error");
    const refusal = await waitUntil(
      "rejoin refused",
      async () => (await error.isVisible()) && error.textContent(),
    );
    expect(refusal).toBe("A host removed you from this meeting.");
    await host.getByTestId("btn-leave").click();
  });

  it("keeps a third person in the lobby until the host admits them, then they see the others", async () => {
    const host = await person("erin", "Erin", "host");
    const guest = await person("frank", "Frank");
    const meetingId = await createMeeting(host, "Lobby meeting", { lobby: true });
    await joinMeeting(host, server.url, meetingId);
    const hostId = await inMeeting(host);

    await joinMeeting(guest, server.url, meetingId);
    await guest.getByTestId("screen-meeting").waitFor();
    const waiting = guest.getByTestId("lobby-waiting");
    await waitUntil("guest in the lobby", async () => {
      const phase = await guest.evaluate(() => window.__nexus.session()?.phase);
      if (phase === "joined")
        throw new Error("the guest got in without being admitted (no lobby on the server)");
      return waiting.isVisible();
    });
    expect(await waiting.textContent()).toContain("Waiting for the host to let you in");
    await screenshot(guest, "lobby-waiting");

    const guestId = await selfId(guest);
    const admit = host.getByTestId(`admit-${guestId}`);
    await admit.waitFor({ timeout: 20_000 });
    await screenshot(host, "lobby-host-admit-list");
    await admit.click();
    await inMeeting(guest);
    expect(await waitForGrowingFrames(guest, hostId, "camera")).toBeGreaterThan(5);
    expect(await waitForGrowingFrames(host, guestId!, "camera")).toBeGreaterThan(5);

    // Host controls are the host's alone; ending the meeting closes it for the guest too.
    expect(await guest.getByTestId("end-meeting").isVisible()).toBe(false);
    await host.getByTestId("end-meeting").click();
    await guest.getByTestId("meeting-over").waitFor();
    expect(await guest.getByTestId("meeting-over-reason").textContent()).toBe("The meeting has ended.");
  });
});
