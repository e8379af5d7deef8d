import { Api } from "./api.js";
import { MeetingSession } from "./session.js";
import { clear, h } from "./ui/dom.js";
import { meetingScreen } from "./ui/meeting.js";
import { meetingsScreen } from "./ui/meetings.js";
import { prejoinScreen } from "./ui/prejoin.js";
import { signInScreen } from "./ui/signin.js";

/*
 * Routes: #/ meetings (or sign-in), #/m/<id> pre-join then the meeting. The token lives in
 * sessionStorage so two tabs can be two different people, which is how one tests a meeting alone.
 */

const TOKEN_KEY = "nexus.token";
const root = document.getElementById("app")!;
const api = new Api(sessionStorage.getItem(TOKEN_KEY));
let dev = false;
let current: { dispose?: () => void } = {};
let session: MeetingSession | null = null;

window.__nexus = {
  session: () => session,
  stats: () => session?.stats() ?? Promise.resolve([]),
};

function tokenName(): string {
  const token = sessionStorage.getItem(TOKEN_KEY);
  try {
    const payload = JSON.parse(atob(token!.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    return String(payload.name ?? payload.sub ?? "");
  } catch {
    return "";
  }
}

function show(el: HTMLElement, dispose?: () => void) {
  current.dispose?.();
  current = { dispose };
  clear(root);
  root.append(el);
}

function go(hash: string) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  api.setToken(null);
  go("#/");
}

function route() {
  if (!api.signedIn) {
    show(
      signInScreen(api, dev, (token) => {
        sessionStorage.setItem(TOKEN_KEY, token);
        api.setToken(token);
        route();
      }),
    );
    return;
  }
  const match = /^#\/m\/([^/]+)$/.exec(location.hash);
  if (!match) {
    show(meetingsScreen(api, (id) => go(`#/m/${id}`), signOut));
    return;
  }
  const meetingId = decodeURIComponent(match[1]!);
  const prejoin = prejoinScreen(
    api,
    meetingId,
    tokenName(),
    ({ answer, audio, video, startMuted, startVideoOff }) => {
      session = new MeetingSession({
        join: answer,
        audio,
        video,
        startMuted,
        startVideoOff,
        pageHost: location.hostname,
      });
      const active = session;
      const view = meetingScreen(active, () => go("#/"));
      show(view.el, () => {
        view.dispose();
        for (const track of [audio, video]) track?.stop();
        if (session === active) session = null;
      });
      active.start().catch(() => {
        // The meeting view shows session.error; nothing else to do here.
      });
    },
    () => go("#/"),
  );
  show(prejoin.el, prejoin.dispose);
}

window.addEventListener("hashchange", route);
window.addEventListener("pagehide", () => void session?.leave());
root.append(h("p", { class: "hint" }, "Loading…"));
api.devInfo().then((info) => {
  dev = info.dev;
  route();
});
