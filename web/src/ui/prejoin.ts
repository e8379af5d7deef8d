import type { JoinAnswer, JoinBody } from "@nexus/shared/rest/join";
import type { Meeting } from "@nexus/shared/rest/meetings";
import { type Api, describeError } from "../api.js";
import { h, notice } from "./dom.js";

export interface PrejoinResult {
  answer: JoinAnswer;
  /** What was sent to get it: a re-join after a lost connection sends it again. */
  body: JoinBody;
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
  startMuted: boolean;
  startVideoOff: boolean;
}

/** Camera and microphone preview with device choice, name and password, then the join call. */
export function prejoinScreen(
  api: Api,
  meetingId: string,
  defaultName: string,
  onJoined: (result: PrejoinResult) => void,
  back: () => void,
): { el: HTMLElement; dispose(): void } {
  const error = notice("join-error");
  const preview = h("video", {
    autoplay: true,
    muted: true,
    playsinline: true,
    "data-testid": "prejoin-preview",
  });
  preview.muted = true;
  const cameraSelect = h("select", { "data-testid": "select-camera", "aria-label": "Camera" });
  const micSelect = h("select", { "data-testid": "select-mic", "aria-label": "Microphone" });
  const name = h("input", {
    value: defaultName,
    required: true,
    maxlength: 100,
    "data-testid": "display-name",
  });
  const password = h("input", {
    type: "password",
    "data-testid": "join-password",
    placeholder: "if the meeting has one",
  });
  const passwordRow = h("label", { hidden: true }, "Meeting password", password);
  const micOff = h("input", { type: "checkbox", "data-testid": "prejoin-mute" });
  const camOff = h("input", { type: "checkbox", "data-testid": "prejoin-video-off" });
  const title = h("h1", {}, "Join meeting");
  const joinButton = h("button", { type: "submit", "data-testid": "join-button", disabled: true }, "Join");

  let stream: MediaStream | null = null;
  let handedOver = false;

  const stopStream = () => {
    for (const t of stream?.getTracks() ?? []) t.stop();
    stream = null;
  };

  async function openDevices(cameraId?: string, micId?: string) {
    stopStream();
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: cameraId ? { deviceId: { exact: cameraId } } : { width: 1280, height: 720 },
        audio: micId ? { deviceId: { exact: micId } } : true,
      });
    } catch {
      // Join without devices rather than not at all: audio only, video only, or nothing.
      stream = await navigator.mediaDevices.getUserMedia({ audio: true }).catch(() => null);
      error.show("Camera not available: you will join without video.");
    }
    preview.srcObject = stream;
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
    const fill = (select: HTMLSelectElement, kind: MediaDeviceKind, current?: string) => {
      const options = devices
        .filter((d) => d.kind === kind)
        .map((d, i) => h("option", { value: d.deviceId }, d.label || `${kind} ${i + 1}`));
      select.replaceChildren(...options);
      if (current) select.value = current;
    };
    fill(cameraSelect, "videoinput", stream?.getVideoTracks()[0]?.getSettings().deviceId);
    fill(micSelect, "audioinput", stream?.getAudioTracks()[0]?.getSettings().deviceId);
    joinButton.disabled = false;
  }

  cameraSelect.addEventListener("change", () => void openDevices(cameraSelect.value, micSelect.value));
  micSelect.addEventListener("change", () => void openDevices(cameraSelect.value, micSelect.value));

  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.hide();
        joinButton.disabled = true;
        try {
          const body: JoinBody = {
            display_name: name.value.trim() || undefined,
            ...(password.value ? { password: password.value } : {}),
          };
          const answer = await api.join(meetingId, body);
          handedOver = true;
          onJoined({
            answer,
            body,
            audio: stream?.getAudioTracks()[0] ?? null,
            video: stream?.getVideoTracks()[0] ?? null,
            startMuted: micOff.checked,
            startVideoOff: camOff.checked,
          });
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === "wrong_password") passwordRow.hidden = false;
          error.show(describeError(err));
          joinButton.disabled = false;
        }
      },
    },
    h("label", {}, "Your name", name),
    passwordRow,
    h("label", {}, "Camera", cameraSelect),
    h("label", {}, "Microphone", micSelect),
    h("label", { class: "inline" }, micOff, "Join muted"),
    h("label", { class: "inline" }, camOff, "Join with camera off"),
    joinButton,
  );

  api.getMeeting(meetingId).then(
    (m: Meeting) => {
      title.textContent = `Join “${m.title}”`;
      if (m.has_password) passwordRow.hidden = false;
      if (m.status === "ended") error.show("The meeting has ended.");
    },
    (err) => error.show(describeError(err)),
  );
  void openDevices();

  const el = h(
    "section",
    { class: "screen prejoin", "data-testid": "screen-prejoin" },
    h("header", { class: "bar" }, title, h("button", { class: "secondary", onclick: back }, "Back")),
    error.el,
    h("div", { class: "columns" }, h("div", { class: "preview grow" }, preview), form),
  );
  return {
    el,
    dispose() {
      // The tracks go on into the meeting; only an abandoned preview releases the devices.
      if (!handedOver) stopStream();
    },
  };
}
