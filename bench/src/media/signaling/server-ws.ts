/**
 * Child process: the baseline, the same signaling logic on the `ws` package: join token checked on upgrade
 * (verifyJoinToken, as our host does), JSON requests `{ id, type, data }` parsed, acks, and a room broadcast
 * for join-meeting / send-message / toggle-hand. No database, no rooms beyond one Set, no mediasoup. Each
 * broadcast is serialized once and the same string sent to every member (the usual way to write it).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { verifyJoinToken } from "@nexus/platform/join-token";
import { type WebSocket, WebSocketServer } from "ws";
import { JOIN_SECRET } from "../common.js";

const hostId = "bench-ws-baseline";
const members = new Set<WebSocket>();
let seq = 0;
const wss = new WebSocketServer({
  host: "127.0.0.1",
  port: 0,
  perMessageDeflate: false,
  maxPayload: 64 * 1024,
  verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number) => void) => {
    const token = new URL(info.req.url ?? "/", "http://x").searchParams.get("token") ?? "";
    verifyJoinToken(token, { secret: JOIN_SECRET, hostId, now: new Date() }).then(
      (claims) => {
        (info.req as IncomingMessage & { claims?: unknown }).claims = claims;
        done(true);
      },
      () => done(false, 401),
    );
  },
});
const broadcast = (type: string, data: unknown) => {
  const text = JSON.stringify({ type, data });
  for (const m of members) m.send(text);
};
wss.on("connection", (ws, req) => {
  const claims = (
    req as IncomingMessage & { claims: { participant_id: string; name: string; user_id: string } }
  ).claims;
  let hand: string | null = null;
  ws.on("message", (raw) => {
    let msg: { id: number; type: string; data: { text?: string } };
    try {
      msg = JSON.parse(String(raw));
    } catch {
      ws.close(4400, "bad json");
      return;
    }
    if (msg.type === "join-meeting") {
      members.add(ws);
      broadcast("participant-joined", { participant_id: claims.participant_id, display_name: claims.name });
      ws.send(JSON.stringify({ id: msg.id, success: true, data: { participant_id: claims.participant_id } }));
    } else if (msg.type === "send-message") {
      const message = {
        id: randomUUID(),
        seq: ++seq,
        sender: { participant_id: claims.participant_id, user_id: claims.user_id, name: claims.name },
        text: String(msg.data?.text ?? ""),
        reply_to: null,
        to: null,
        created_at: new Date().toISOString(),
      };
      broadcast("new-message", message);
      ws.send(JSON.stringify({ id: msg.id, success: true, data: message }));
    } else if (msg.type === "toggle-hand") {
      hand = hand ? null : new Date().toISOString();
      broadcast("participant-updated", { participant_id: claims.participant_id, hand_raised_at: hand });
      ws.send(
        JSON.stringify({ id: msg.id, success: true, data: { raised: hand !== null, hand_raised_at: hand } }),
      );
    } else {
      ws.send(
        JSON.stringify({ id: msg.id, success: false, error: { code: "bad_request", message: "unknown" } }),
      );
    }
  });
  ws.on("close", () => members.delete(ws));
});
wss.on("listening", () => {
  const addr = wss.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  console.log(JSON.stringify({ port, meetingId: "m", tenantId: "t", hostId }));
});
process.on("SIGTERM", () => {
  for (const c of wss.clients) c.terminate();
  wss.close(() => process.exit(0));
});
// The bench asks for a full collection before it reads RSS (node --expose-gc); one line answers it.
process.on("SIGUSR2", () => {
  (globalThis as { gc?: () => void }).gc?.();
  console.log(JSON.stringify({ gc: true, memory: process.memoryUsage() }));
});
