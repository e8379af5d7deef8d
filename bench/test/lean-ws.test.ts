import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { type LeanSocket, openLean } from "../src/media/lean-ws.js";

/** The join bench's minimal client against the `ws` package's server (an independent RFC 6455 implementation). */
describe("lean-ws", () => {
  let server: WebSocketServer | null = null;
  afterEach(async () => {
    const s = server;
    server = null;
    if (!s) return;
    for (const ws of s.clients) ws.terminate();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  async function start(
    onConnection: (ws: WebSocket) => void,
    verify?: () => boolean,
  ): Promise<{ url: string; server: WebSocketServer }> {
    const s = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      perMessageDeflate: false,
      verifyClient: verify ? (_info, done) => done(verify(), 401) : undefined,
    });
    server = s;
    await new Promise<void>((resolve) => s.once("listening", () => resolve()));
    s.on("connection", onConnection);
    return { url: `ws://127.0.0.1:${(s.address() as AddressInfo).port}/path?token=a%20b`, server: s };
  }

  function client(url: string, wanted: (first: Buffer) => boolean = () => true) {
    const texts: string[] = [];
    let onClosed: (why: string) => void = () => {};
    const closed = new Promise<string>((resolve) => {
      onClosed = resolve;
    });
    const socket = openLean(url, { text: (t) => texts.push(t), closed: (why) => onClosed(why) }, wanted);
    return { socket, texts, closed };
  }

  const until = async (check: () => boolean) => {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(check()).toBe(true);
  };

  it("sends masked text the server reads, and reads small, 16-bit and 64-bit length frames", async () => {
    const got: string[] = [];
    let path = "";
    const big = "x".repeat(70_000);
    const mid = "é".repeat(200);
    const { url } = await start((ws) => {
      ws.on("message", (data, isBinary) => {
        got.push(String(data));
        expect(isBinary).toBe(false);
        ws.send("small");
        ws.send(mid);
        ws.send(big);
      });
    });
    server!.on("connection", (_ws, req) => {
      path = req.url ?? "";
    });
    const c = client(url);
    const socket = await c.socket;
    const request = JSON.stringify({ id: 1, type: "join-meeting", data: { caps: "y".repeat(5_000) } });
    socket.send(request);
    await until(() => c.texts.length === 3);
    expect(got).toEqual([request]);
    expect(path).toBe("/path?token=a%20b");
    expect(c.texts).toEqual(["small", mid, big]);
  });

  it("skips the messages `wanted` refuses without losing the frames after them", async () => {
    const { url } = await start((ws) => {
      for (let i = 0; i < 50; i++) ws.send(JSON.stringify({ type: "participant-joined", data: { i } }));
      ws.send(JSON.stringify({ id: 7, success: true, data: {} }));
    });
    const prefix = Buffer.from('{"id"');
    const c = client(url, (first) => first.subarray(0, prefix.length).equals(prefix));
    await c.socket;
    await until(() => c.texts.length === 1);
    expect(JSON.parse(c.texts[0]!)).toEqual({ id: 7, success: true, data: {} });
  });

  it("joins a fragmented message and answers pings", async () => {
    let ponged = false;
    const { url } = await start((ws) => {
      ws.on("pong", () => {
        ponged = true;
      });
      ws.ping("are you there");
      ws.send("one ", { fin: false });
      ws.send("two ", { fin: false });
      ws.send("three", { fin: true });
    });
    const c = client(url);
    await c.socket;
    await until(() => c.texts.length === 1 && ponged);
    expect(c.texts).toEqual(["one two three"]);
  });

  it("reports the server's close code and reason, and closes with 1000 itself", async () => {
    const codes: number[] = [];
    let serverSide: WebSocket | null = null;
    const { url } = await start((ws) => {
      serverSide = ws;
      ws.on("close", (code) => codes.push(code));
    });
    const c = client(url);
    await c.socket;
    await until(() => serverSide !== null);
    serverSide!.close(4000, "meeting ended");
    expect(await c.closed).toBe("socket closed 4000 meeting ended");

    const d = client(url);
    const socket = await d.socket;
    socket.close();
    await until(() => codes.length === 2);
    expect(codes).toEqual([4000, 1000]);
    // A close we started ends the socket once the server's answering close frame arrives.
    expect(await d.closed).toMatch(/^socket closed 1000/);
  });

  it("fails the open when the server refuses the upgrade", async () => {
    const { url } = await start(
      () => {},
      () => false,
    );
    await expect(client(url).socket).rejects.toThrow(/upgrade refused: HTTP\/1\.1 401/);
  });
});
