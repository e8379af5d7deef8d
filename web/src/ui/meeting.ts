import { describeError } from "../api.js";
import type { MeetingSession, RemotePeer } from "../session.js";
import { chatPanel } from "./chat.js";
import { h, notice } from "./dom.js";
import { participantsPanel } from "./participants.js";

interface Tile {
  el: HTMLElement;
  video: HTMLVideoElement;
  label: HTMLElement;
  track: MediaStreamTrack | null;
}

/** The meeting: video grid, controls, chat and participants; re-rendered from the session on each change. */
export function meetingScreen(
  session: MeetingSession,
  onExit: () => void,
): { el: HTMLElement; dispose(): void } {
  const error = notice("meeting-error");
  const moderation = h("p", { class: "info", "data-testid": "moderation", hidden: true });
  // The socket dropped: the client is getting back in by itself; the call goes on meanwhile.
  const reconnecting = h("p", {
    class: "info reconnecting",
    "data-testid": "reconnecting-banner",
    role: "status",
    hidden: true,
  });
  const grid = h("div", { class: "grid", "data-testid": "video-grid" });
  const audios = h("div", { hidden: true });
  const tiles = new Map<string, Tile>();
  const audioEls = new Map<string, HTMLAudioElement>();

  const act = (work: () => Promise<unknown>) => () => {
    error.hide();
    work().catch((err) => error.show(describeError(err)));
  };
  const button = (testId: string, onclick: () => void) =>
    h("button", { "data-testid": testId, class: "control", onclick });
  const muteBtn = button(
    "btn-mute",
    act(() => session.toggleMute()),
  );
  const videoBtn = button(
    "btn-video",
    act(() => session.toggleVideo()),
  );
  const handBtn = button(
    "btn-hand",
    act(() => session.toggleHand()),
  );
  const screenBtn = button(
    "btn-screen",
    act(() => (session.sharing ? session.stopScreenShare() : session.startScreenShare())),
  );
  const leaveBtn = h(
    "button",
    { "data-testid": "btn-leave", class: "control danger", onclick: () => void session.leave() },
    "Leave",
  );
  const chat = chatPanel(session);
  const people = participantsPanel(session);
  const waiting = h(
    "div",
    { class: "overlay", "data-testid": "lobby-waiting", hidden: true },
    h("h2", {}, "Waiting for the host to let you in"),
    h("p", {}, "You are in the lobby. This page will open the meeting as soon as you are admitted."),
    h("button", { class: "secondary", onclick: () => void session.leave() }, "Cancel"),
  );
  const over = h("div", { class: "overlay", "data-testid": "meeting-over", hidden: true });

  function tile(key: string, participantId: string, source: "camera" | "screen", self: boolean): Tile {
    let t = tiles.get(key);
    if (!t) {
      const video = h("video", { autoplay: true, playsinline: true, muted: true });
      video.muted = true;
      const label = h("span", { class: "label" });
      const el = h(
        "figure",
        {
          class: `tile ${source}`,
          "data-testid": self ? "tile-self" : `tile-${participantId}`,
          "data-source": source,
        },
        video,
        h("figcaption", {}, label),
      );
      t = { el, video, label, track: null };
      tiles.set(key, t);
    }
    return t;
  }

  function setTrack(t: Tile, track: MediaStreamTrack | null) {
    if (t.track === track) return;
    t.track = track;
    t.video.srcObject = track ? new MediaStream([track]) : null;
    if (track) t.video.play().catch(() => {});
  }

  function renderTiles() {
    const wanted: Tile[] = [];
    const speaking = session.activeSpeaker;

    const self = tile("self:camera", session.participantId, "camera", true);
    setTrack(self, session.videoOn ? session.localVideo : null);
    self.label.textContent = `${session.name || "You"} (you)${session.muted ? " · muted" : ""}${session.hand ? " · hand raised" : ""}`;
    self.el.dataset.muted = String(session.muted);
    self.el.dataset.video = String(session.videoOn);
    self.el.classList.toggle("speaking", speaking === session.participantId);
    wanted.push(self);
    if (session.localScreen) {
      const selfScreen = tile("self:screen", session.participantId, "screen", true);
      setTrack(selfScreen, session.localScreen);
      selfScreen.label.textContent = "Your screen";
      wanted.push(selfScreen);
    }

    for (const peer of session.peers.values()) {
      const tracks = [...peer.tracks.values()];
      const camera = tracks.find((t) => t.source === "camera");
      const t = tile(`${peer.id}:camera`, peer.id, "camera", false);
      setTrack(t, camera && peer.videoOn && !camera.paused ? camera.consumer.track : null);
      t.label.textContent = `${peer.name}${peer.reconnecting ? " · reconnecting…" : ""}${peer.muted ? " · muted" : ""}${peer.hand ? " · hand raised" : ""}`;
      t.el.dataset.reconnecting = String(peer.reconnecting);
      t.el.dataset.muted = String(peer.muted);
      t.el.dataset.video = String(peer.videoOn);
      t.el.dataset.hand = String(peer.hand);
      t.el.dataset.participant = peer.id;
      t.el.classList.toggle("speaking", speaking === peer.id);
      t.el.dataset.speaking = String(speaking === peer.id);
      wanted.push(t);
      const screen = tracks.find((x) => x.source === "screen");
      if (screen) {
        const s = tile(`${peer.id}:screen`, peer.id, "screen", false);
        setTrack(s, screen.consumer.track);
        s.label.textContent = `${peer.name}'s screen`;
        s.el.dataset.participant = peer.id;
        wanted.push(s);
      }
    }
    for (const [key, t] of tiles) {
      if (!wanted.includes(t)) {
        setTrack(t, null);
        tiles.delete(key);
      }
    }
    // Screens first: they are what everybody is looking at.
    wanted.sort(
      (a, b) => Number(b.el.dataset.source === "screen") - Number(a.el.dataset.source === "screen"),
    );
    const order = wanted.map((t) => t.el);
    // Re-inserting a playing <video> can stall it for a frame; only touch the DOM when the set changed.
    if (order.length !== grid.children.length || order.some((el, i) => grid.children[i] !== el)) {
      grid.replaceChildren(...order);
    }
    grid.dataset.count = String(wanted.length);
    grid.classList.toggle(
      "has-screen",
      wanted.some((t) => t.el.dataset.source === "screen"),
    );
  }

  function renderAudio(peers: Iterable<RemotePeer>) {
    const live = new Set<string>();
    for (const peer of peers) {
      for (const t of peer.tracks.values()) {
        if (t.consumer.kind !== "audio") continue;
        live.add(t.producerId);
        if (!audioEls.has(t.producerId)) {
          const audio = h("audio", { autoplay: true });
          audio.srcObject = new MediaStream([t.consumer.track]);
          audio.play().catch(() => {});
          audioEls.set(t.producerId, audio);
          audios.append(audio);
        }
      }
    }
    for (const [id, audio] of audioEls) {
      if (!live.has(id)) {
        audio.srcObject = null;
        audio.remove();
        audioEls.delete(id);
      }
    }
  }

  function render() {
    const phase = session.phase;
    waiting.hidden = phase !== "waiting";
    const finished = phase !== "joined" && phase !== "waiting" && phase !== "connecting";
    over.hidden = !finished;
    reconnecting.hidden = session.connection !== "reconnecting";
    reconnecting.textContent =
      session.attempt > 1 ? `Reconnecting… (attempt ${session.attempt})` : "Reconnecting…";
    if (finished) {
      over.hidden = false;
      over.dataset.phase = phase;
      over.replaceChildren(
        h("h2", {}, phase === "left" ? "You left the meeting" : "The meeting is over for you"),
        session.error ? h("p", { "data-testid": "meeting-over-reason" }, session.error) : "",
        session.canRetry
          ? h("button", { "data-testid": "btn-retry", onclick: () => void session.retry() }, "Retry")
          : "",
        h("button", { "data-testid": "back-to-meetings", onclick: onExit }, "Back to meetings"),
      );
    }
    moderation.hidden = !session.moderation;
    moderation.textContent = session.moderation ?? "";
    if (session.error && phase === "joined") error.show(session.error);
    muteBtn.textContent = session.muted ? "Unmute" : "Mute";
    muteBtn.disabled = session.muted && session.micLocked;
    muteBtn.setAttribute("aria-pressed", String(session.muted));
    videoBtn.textContent = session.videoOn ? "Stop video" : "Start video";
    videoBtn.setAttribute("aria-pressed", String(!session.videoOn));
    handBtn.textContent = session.hand ? "Lower hand" : "Raise hand";
    handBtn.setAttribute("aria-pressed", String(session.hand));
    screenBtn.textContent = session.sharing ? "Stop sharing" : "Share screen";
    screenBtn.setAttribute("aria-pressed", String(session.sharing));
    screenBtn.hidden = session.settings?.allow_screen_share === false;
    renderTiles();
    renderAudio(session.peers.values());
    chat.render();
    people.render();
  }

  const off = session.onChange(render);
  render();

  const el = h(
    "section",
    { class: "screen meeting", "data-testid": "screen-meeting", "data-meeting": session.meetingId },
    h(
      "div",
      { class: "stage" },
      error.el,
      reconnecting,
      moderation,
      grid,
      h("nav", { class: "controls" }, muteBtn, videoBtn, handBtn, screenBtn, leaveBtn),
    ),
    h("aside", { class: "side" }, people.el, chat.el),
    audios,
    waiting,
    over,
  );
  return {
    el,
    dispose() {
      off();
      for (const t of tiles.values()) setTrack(t, null);
      void session.leave();
    },
  };
}
