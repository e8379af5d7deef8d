import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { SignalingClient, SignalingError, type SocketEvent, type WebSocketLike } from "./client.js";
import { ClientRequestSchema } from "./index.js";

/** The far end of an in-memory socket: the test plays the server, byte for byte as it would send them. */
class ServerEnd implements WebSocketLike {
  readyState = 1;
  readonly sent: string[] = [];
  private readonly listeners = new Map<string, ((event: SocketEvent) => void)[]>();
  send(data: string): void {
    this.sent.push(data);
  }
  close(code = 1000, reason = ""): void {
    this.readyState = 3;
    this.emit("close", { code, reason });
  }
  addEventListener(type: string, listener: (event: SocketEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  emit(type: string, event: SocketEvent): void {
    for (const l of this.listeners.get(type) ?? []) l(event);
  }
  reply(message: unknown): void {
    this.emit("message", { data: JSON.stringify(message) });
  }
  lastRequest(): { id: number; type: string; data: unknown } {
    return JSON.parse(this.sent.at(-1) ?? "null");
  }
}

describe("SignalingClient", () => {
  it("sends a request envelope that the protocol schema accepts and resolves with the ack data", async () => {
    const socket = new ServerEnd();
    const client = new SignalingClient(socket);
    const answer = client.request("toggle-mute", { muted: true });
    const sent = socket.lastRequest();
    expect(v.safeParse(ClientRequestSchema, sent).success).toBe(true);
    expect(sent).toMatchObject({ type: "toggle-mute", data: { muted: true } });
    socket.reply({ id: sent.id, success: true, data: { muted: true } });
    await expect(answer).resolves.toEqual({ muted: true });
  });

  it("rejects with the server's error code on a failure ack", async () => {
    const socket = new ServerEnd();
    const client = new SignalingClient(socket);
    const answer = client.request("pause-producer", { producer_id: "p1" });
    socket.reply({
      id: socket.lastRequest().id,
      success: false,
      error: { code: "forbidden", message: "not yours" },
    });
    await expect(answer).rejects.toMatchObject({
      name: "SignalingError",
      code: "forbidden",
      message: "not yours",
    });
  });

  it("rejects an ack whose data does not match the schema of its request", async () => {
    const socket = new ServerEnd();
    const problems: string[] = [];
    const client = new SignalingClient(socket, { onProtocolError: (p) => problems.push(p) });
    const answer = client.request("produce", {
      transport_id: "t",
      kind: "audio",
      source: "mic",
      rtp_parameters: { codecs: [] },
    });
    socket.reply({ id: socket.lastRequest().id, success: true, data: { producer: 42 } });
    await expect(answer).rejects.toMatchObject({ code: "internal" });
    expect(problems).toEqual(["ack of produce does not match its schema"]);
  });

  it("delivers valid notifications, drops malformed ones, and lets a late waiter see past events", async () => {
    const socket = new ServerEnd();
    const problems: string[] = [];
    const client = new SignalingClient(socket, { onProtocolError: (p) => problems.push(p) });
    const seen: string[] = [];
    client.on("participant-left", (d) => seen.push(d.participant_id));
    socket.reply({ type: "participant-left", data: { participant_id: "a", reason: "left" } });
    socket.reply({ type: "participant-left", data: { participant: "b" } });
    socket.reply({ type: "no-such-event", data: {} });
    socket.emit("message", { data: "{not json" });
    expect(seen).toEqual(["a"]);
    expect(problems).toEqual([
      "participant-left does not match its schema",
      "unknown notification",
      "not JSON",
    ]);
    await expect(client.waitFor("participant-left", (d) => d.participant_id === "a")).resolves.toEqual({
      participant_id: "a",
      reason: "left",
    });
  });

  it("fails every pending request when the connection closes, and refuses new ones", async () => {
    const socket = new ServerEnd();
    const client = new SignalingClient(socket);
    const closes: number[] = [];
    client.onClose((code) => closes.push(code));
    const answer = client.request("leave-meeting", {});
    socket.close(4001, "bye");
    await expect(answer).rejects.toBeInstanceOf(SignalingError);
    await expect(client.request("leave-meeting", {})).rejects.toMatchObject({ code: "unavailable" });
    client.close();
    client.close();
    expect(closes).toEqual([4001]);
  });

  it("rejects opened() when the server closes the socket before it opens", async () => {
    const socket = new ServerEnd();
    socket.readyState = 0;
    const client = new SignalingClient(socket);
    socket.close(4401, "bad token");
    await expect(client.opened()).rejects.toMatchObject({ code: "unavailable" });
  });
});
