/**
 * A minimal RFC 6455 client for the join bench: plain `net` socket, the HTTP upgrade written by hand, masked
 * text frames out, and frames in parsed without copying unless a caller wants the text. The bench runs 20
 * participants in one client process on one core, which no real deployment does; with the `ws` package that
 * process spent 1.2-3.4 ms of CPU per join (upgrade, framing, a string per notification), about as much as the
 * server, and the clients' queue on their core was part of every measured join. This client does the same
 * protocol work with less: notifications are recognized by their first bytes and never decoded.
 *
 * Not a general client: no extensions, no subprotocols, text only; a close or protocol error ends the socket.
 */
import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export interface LeanSocket {
  send(text: string): void;
  close(): void;
}

export interface LeanHandlers {
  /** A complete text message; `wanted` said it should be decoded. */
  text(text: string): void;
  /** The socket ended (close frame, TCP end, error); `why` says how. */
  closed(why: string): void;
}

/**
 * Opens a WebSocket. `wanted(first)` sees the first bytes of each text message (at most 8) and says whether
 * to decode it: the bench skips notifications (`{"type"...`) without turning them into strings.
 */
export function openLean(
  url: string,
  handlers: LeanHandlers,
  wanted: (payload: Buffer) => boolean,
  timeoutMs = 10_000,
): Promise<LeanSocket> {
  const u = new URL(url);
  const key = randomBytes(16).toString("base64");
  const accept = createHash("sha1")
    .update(key + GUID)
    .digest("base64");
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: u.hostname, port: Number(u.port) });
    socket.setNoDelay(true);
    let opened = false;
    let ended = false;
    /** We sent our close frame: the server's answering close needs no reply. */
    let closing = false;
    let pending: Buffer = Buffer.alloc(0);
    let fragments: Buffer[] | null = null;
    const timer = setTimeout(() => fail("connect timeout"), timeoutMs);

    function fail(why: string): void {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      socket.destroy();
      if (opened) handlers.closed(why);
      else reject(new Error(why));
    }

    const api: LeanSocket = {
      send(text) {
        if (ended) return;
        socket.write(frame(0x1, Buffer.from(text, "utf8")));
      },
      close() {
        if (ended || closing) return;
        closing = true;
        const body = Buffer.alloc(2);
        body.writeUInt16BE(1000);
        socket.write(frame(0x8, body));
        socket.end();
      },
    };

    socket.once("connect", () => {
      socket.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on("error", (err) => fail(String(err)));
    socket.on("end", () => fail("socket ended"));
    socket.on("close", () => fail("socket closed"));
    socket.on("data", (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      if (!opened) {
        const head = pending.indexOf("\r\n\r\n");
        if (head < 0) return;
        const lines = pending.subarray(0, head).toString("latin1").split("\r\n");
        if (!/^HTTP\/1\.1 101/.test(lines[0] ?? "")) {
          fail(`upgrade refused: ${lines[0]}`);
          return;
        }
        const got = lines
          .find((l) => /^sec-websocket-accept:/i.test(l))
          ?.split(":")[1]
          ?.trim();
        if (got !== accept) {
          fail("bad Sec-WebSocket-Accept");
          return;
        }
        opened = true;
        clearTimeout(timer);
        pending = pending.subarray(head + 4);
        resolve(api);
      }
      readFrames();
    });

    function readFrames(): void {
      while (!ended && pending.length >= 2) {
        const b0 = pending[0]!;
        const b1 = pending[1]!;
        if (b1 & 0x80) {
          fail("server frames must not be masked");
          return;
        }
        let len = b1 & 0x7f;
        let at = 2;
        if (len === 126) {
          if (pending.length < 4) return;
          len = pending.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (pending.length < 10) return;
          len = Number(pending.readBigUInt64BE(2));
          at = 10;
        }
        if (pending.length < at + len) return;
        const payload = pending.subarray(at, at + len);
        pending = pending.subarray(at + len);
        const fin = (b0 & 0x80) !== 0;
        const opcode = b0 & 0x0f;
        if (opcode === 0x8) {
          const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          if (!closing) socket.end(frame(0x8, payload.subarray(0, 2)));
          fail(`socket closed ${code} ${payload.subarray(2).toString("utf8")}`);
          return;
        }
        if (opcode === 0x9) {
          socket.write(frame(0xa, payload));
          continue;
        }
        if (opcode === 0xa) continue;
        // Data: text (1), binary (2), or a continuation (0) of either.
        if (opcode !== 0) fragments = [];
        if (!fragments) {
          fail("continuation without a first frame");
          return;
        }
        fragments.push(payload);
        if (!fin) continue;
        const whole = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
        fragments = null;
        if (wanted(whole.subarray(0, 8))) handlers.text(whole.toString("utf8"));
      }
    }
  });
}

/** One masked client frame (FIN set). */
function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const headLen = len < 126 ? 2 : len < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headLen + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = 0x80 | len;
  else if (len < 65_536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  // The masking key only has to be unpredictable to intermediaries (RFC 6455 10.3); Math.random is enough for a
  // loopback bench and, unlike randomBytes per frame, costs nothing measurable.
  const m = (Math.random() * 0x1_0000_0000) >>> 0;
  out.writeUInt32BE(m, headLen);
  const mask = [m >>> 24, (m >>> 16) & 0xff, (m >>> 8) & 0xff, m & 0xff];
  const body = headLen + 4;
  for (let i = 0; i < len; i++) out[body + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}
