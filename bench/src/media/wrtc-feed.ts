/** WebRTC in Node for the benches: @roamhq/wrtc's classes as the browser globals mediasoup-client reads. */
import wrtc from "@roamhq/wrtc";

export function installWrtc(): void {
  const g = globalThis as Record<string, unknown>;
  for (const name of [
    "RTCPeerConnection",
    "RTCSessionDescription",
    "RTCIceCandidate",
    "MediaStream",
    "MediaStreamTrack",
    "RTCRtpSender",
    "RTCRtpReceiver",
    "RTCRtpTransceiver",
  ] as const) {
    g[name] ??= (wrtc as Record<string, unknown>)[name];
  }
}

/** A synthetic camera at 10 fps: a moving gradient, so the encoder has something to send in every frame. */
export function videoFeed(width: number, height: number): { track: MediaStreamTrack; stop(): void } {
  const source = new wrtc.nonstandard.RTCVideoSource();
  const track = source.createTrack();
  const data = new Uint8Array(width * height * 1.5);
  let n = 0;
  const timer = setInterval(() => {
    n = (n + 7) % 255;
    for (let i = 0; i < width * height; i += 97) data[i] = (i + n) % 255;
    source.onFrame({ width, height, data });
  }, 100);
  return {
    track: track as unknown as MediaStreamTrack,
    stop() {
      clearInterval(timer);
      track.stop();
    },
  };
}
