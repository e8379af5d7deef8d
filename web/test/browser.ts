import { createSocket } from "node:dgram";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS = join(import.meta.dirname, "..", "..", "test-artifacts");

/**
 * Fake camera and microphone, fake capture picker (getDisplayMedia picks the screen by itself), loopback
 * ICE candidates allowed, and nothing that phones home.
 */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--auto-select-desktop-capture-source=Entire screen",
  "--auto-accept-this-tab-capture",
  "--allow-loopback-in-peer-connection",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--autoplay-policy=no-user-gesture-required",
];

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Chromium on a fresh profile: playwright gives every launch its own temporary user-data-dir. */
export async function launchChromium(extraArgs: string[] = []): Promise<LaunchedBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 60_000,
  });
  let closing: Promise<void> | undefined;
  return {
    browser,
    close: () => {
      closing ??= browser.close().catch(() => {});
      return closing;
    },
  };
}

/** A person in their own browser context (own sessionStorage and permissions), signed in through the form. */
export async function signIn(
  browser: Browser,
  baseUrl: string,
  who: { tenant: string; user: string; name: string; role: "host" | "member" | "admin" },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    permissions: ["camera", "microphone"],
    viewport: { width: 1280, height: 800 },
  });
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error(`[${who.name}] page error:`, err.message));
  await page.goto(baseUrl);
  await page.getByTestId("signin-tenant").fill(who.tenant);
  await page.getByTestId("signin-user").fill(who.user);
  await page.getByTestId("signin-name").fill(who.name);
  await page.getByTestId("signin-role").selectOption(who.role);
  await page.getByTestId("signin-submit").click();
  await page.getByTestId("screen-meetings").waitFor();
  return { context, page };
}

/** Opens the pre-join screen of a meeting and presses Join once the devices are ready. */
export async function joinMeeting(
  page: Page,
  baseUrl: string,
  meetingId: string,
  options: { password?: string } = {},
) {
  await page.goto(`${baseUrl}/#/m/${meetingId}`);
  await page.getByTestId("screen-prejoin").waitFor();
  if (options.password !== undefined) {
    await page.getByTestId("join-password").fill(options.password);
  }
  const button = page.getByTestId("join-button");
  await button.waitFor();
  await waitUntil("join button enabled", () => button.isEnabled());
  await button.click();
}

export const selfId = (page: Page) =>
  page.evaluate(() => window.__nexus.session()?.participantId ?? null) as Promise<string | null>;

/** Decoded video frames of one remote participant's source as this page sees them. */
export async function framesOf(
  page: Page,
  participantId: string,
  source: "camera" | "screen",
): Promise<number> {
  const stats = await page.evaluate(() => window.__nexus.stats());
  return stats
    .filter((s) => s.participantId === participantId && s.source === source && s.kind === "video")
    .reduce((sum, s) => sum + s.framesDecoded, 0);
}

/** Polls until check() is truthy; fails with the last value seen after the deadline. */
export async function waitUntil<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await check();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Frames keep arriving: the count grows past where it was, not just once. */
export async function waitForGrowingFrames(
  page: Page,
  participantId: string,
  source: "camera" | "screen",
): Promise<number> {
  const first = await waitUntil(`${source} frames of ${participantId}`, () =>
    framesOf(page, participantId, source),
  );
  return waitUntil(`more ${source} frames of ${participantId}`, async () => {
    const now = await framesOf(page, participantId, source);
    return now > first + 5 ? now : 0;
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

export { freeRtcPorts } from "@nexus/testkit";
