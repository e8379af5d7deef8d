import type { JoinAnswer } from "@nexus/shared/rest/join";
import type { ChatMessageWire } from "@nexus/shared/signaling/meeting";

/** A chat message as a UI shows it. */
export interface ChatMessage {
  id: string;
  seq: number;
  participantId: string | null;
  direct: boolean;
  name: string;
  content: string;
  at: string;
}

export const toChatMessage = (m: ChatMessageWire): ChatMessage => ({
  id: m.id,
  seq: m.seq,
  participantId: m.sender.participant_id,
  name: m.sender.name,
  content: m.text,
  at: m.created_at,
  direct: m.to !== null,
});

/** The three camera layers: a small one for thumbnails, a middle one, the full picture for the speaker. */
export const CAMERA_ENCODINGS: RTCRtpEncodingParameters[] = [
  { rid: "r0", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "r1", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "r2", scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/**
 * The signaling URL of a join answer, with `params` (token, or resume) in its query. `pageHost`: a loopback
 * ws_url is rewritten to the page's host name so that other machines can reach the host.
 */
export function signalingUrl(join: JoinAnswer, params: Record<string, string>, pageHost?: string): string {
  const url = new URL(join.ws_url);
  if (pageHost && LOOPBACK.has(url.hostname) && !LOOPBACK.has(pageHost)) url.hostname = pageHost;
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}
