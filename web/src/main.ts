import { Api } from "./api.js";
import { MeetingSession, type SessionOptions, savedSession } from "./session.js";
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
  const enter = (options: SessionOptions) => {
    session = new MeetingSession(options);
    const active = session;
    const view = meetingScreen(active, () => go("#/"));
    show(view.el, () => {
      view.dispose();
      for (const track of [options.audio, options.video]) track?.stop();
      if (session === active) session = null;
    });
    active.start().catch(() => {
      // The meeting view shows session.error; nothing else to do here.
    });
  };
  // A reload inside the host's grace period goes straight back into the meeting, as the same participant.
  const saved = savedSession(meetingId);
  if (saved) {
    void resumeSaved(meetingId, saved, enter);
    return;
  }
  const prejoin = prejoinScreen(
    api,
    meetingId,
    tokenName(),
    ({ answer, body, audio, video, startMuted, startVideoOff }) =>
      enter({
        join: answer,
        rejoin: () => api.join(meetingId, body),
        audio,
        video,
        startMuted,
        startVideoOff,
        pageHost: location.hostname,
      }),
    () => go("#/"),
  );
  show(prejoin.el, prejoin.dispose);
}

async function resumeSaved(
  meetingId: string,
  saved: NonNullable<ReturnType<typeof savedSession>>,
  enter: (options: SessionOptions) => void,
) {
  show(h("p", { class: "hint", "data-testid": "resuming" }, "Getting you back into the meeting…"));
  let stream: MediaStream | null = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  } catch {
    // Without a camera or microphone the person still sees and hears the others.
  }
  enter({
    join: saved.answer,
    resumeToken: saved.token,
    rejoin: () => api.join(meetingId, {}),
    audio: stream?.getAudioTracks()[0] ?? null,
    video: stream?.getVideoTracks()[0] ?? null,
    startMuted: saved.muted,
    startVideoOff: !saved.videoOn,
    pageHost: location.hostname,
  });
}

window.addEventListener("hashchange", route);
// Not a leave: a reload comes back as the same participant (the host keeps it for RECONNECT_GRACE_MS);
// a closed tab drops out once that grace period passes. The Leave button leaves at once.
window.addEventListener("pagehide", () => session?.suspend());
root.append(h("p", { class: "hint" }, "Loading…"));
api.devInfo().then((info) => {
  dev = info.dev;
  route();
});
