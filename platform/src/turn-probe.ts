import { createHash, createHmac, randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { isIP, type Socket, connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";

/**
 * Just enough STUN (RFC 5389) and TURN (RFC 5766) to ask a TURN server for a relay the way a browser does:
 * an Allocate, the 401 that names realm and nonce, the Allocate again with the long-term credential. The
 * connectivity check and the tests use it to learn whether a path and a credential work, without a browser.
 */

const MAGIC = 0x2112a442;
const ALLOCATE = 0x0003;
const REFRESH = 0x0004;
const BINDING = 0x0001;
const SUCCESS = 0x0100;
const ERROR = 0x0110;

const ATTR = {
  username: 0x0006,
  integrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  realm: 0x0014,
  nonce: 0x0015,
  relayed: 0x0016,
  transport: 0x0019,
  mapped: 0x0020,
} as const;

interface Message {
  type: number;
  transactionId: Buffer;
  attrs: Map<number, Buffer>;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function encode(
  type: number,
  transactionId: Buffer,
  attrs: [number, Buffer][],
  key?: Buffer,
  fingerprint = false,
): Buffer {
  const parts: Buffer[] = [];
  for (const [t, value] of attrs) {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(t, 0);
    head.writeUInt16BE(value.length, 2);
    parts.push(head, value, Buffer.alloc((4 - (value.length % 4)) % 4));
  }
  let body = Buffer.concat(parts);
  const header = (length: number) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(length, 2);
    h.writeUInt32BE(MAGIC, 4);
    transactionId.copy(h, 8);
    return h;
  };
  if (key) {
    // MESSAGE-INTEGRITY covers the header with a length that already counts the integrity attribute.
    const hmac = createHmac("sha1", key)
      .update(Buffer.concat([header(body.length + 24), body]))
      .digest();
    const head = Buffer.alloc(4);
    head.writeUInt16BE(ATTR.integrity, 0);
    head.writeUInt16BE(20, 2);
    body = Buffer.concat([body, head, hmac]);
  }
  if (fingerprint) {
    // FINGERPRINT (RFC 5389 15.5): CRC-32 of everything before it, the length already counting it.
    const crc = crc32(Buffer.concat([header(body.length + 8), body])) ^ 0x5354554e;
    const attr = Buffer.alloc(8);
    attr.writeUInt16BE(0x8028, 0);
    attr.writeUInt16BE(4, 2);
    attr.writeUInt32BE(crc >>> 0, 4);
    body = Buffer.concat([body, attr]);
  }
  return Buffer.concat([header(body.length), body]);
}

function decode(buf: Buffer): Message | null {
  if (buf.length < 20 || buf.readUInt32BE(4) !== MAGIC) return null;
  const length = buf.readUInt16BE(2);
  if (buf.length < 20 + length) return null;
  const attrs = new Map<number, Buffer>();
  let at = 20;
  while (at + 4 <= 20 + length) {
    const t = buf.readUInt16BE(at);
    const len = buf.readUInt16BE(at + 2);
    if (!attrs.has(t)) attrs.set(t, buf.subarray(at + 4, at + 4 + len));
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  return { type: buf.readUInt16BE(0), transactionId: buf.subarray(8, 20), attrs };
}

function xorAddress(value: Buffer | undefined): { address: string; port: number } | null {
  if (!value || value.length < 8 || value[1] !== 0x01) return null;
  const port = value.readUInt16BE(2) ^ (MAGIC >>> 16);
  const ip = (value.readUInt32BE(4) ^ MAGIC) >>> 0;
  return { address: [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join("."), port };
}

function errorOf(value: Buffer | undefined): { code: number; reason: string } | null {
  if (!value || value.length < 4) return null;
  return { code: (value[2] ?? 0) * 100 + (value[3] ?? 0), reason: value.subarray(4).toString("utf8") };
}

/** A request/response channel over one socket; UDP requests are retransmitted until answered. */
interface Channel {
  ask(request: Buffer, transactionId: Buffer): Promise<Message>;
  close(): void;
}

function udpChannel(host: string, port: number): Promise<Channel> {
  const socket = createSocket("udp4");
  const waiting = new Map<string, (m: Message) => void>();
  const timers = new Set<NodeJS.Timeout>();
  socket.on("message", (buf) => {
    const m = decode(buf);
    if (m) waiting.get(m.transactionId.toString("hex"))?.(m);
  });
  socket.on("error", () => {});
  return new Promise((resolve) => {
    socket.connect(port, host, () =>
      resolve({
        ask: (request, id) =>
          new Promise((done) => {
            const send = () => socket.send(request);
            const timer = setInterval(send, 500);
            timers.add(timer);
            waiting.set(id.toString("hex"), (m) => {
              clearInterval(timer);
              timers.delete(timer);
              waiting.delete(id.toString("hex"));
              done(m);
            });
            send();
          }),
        close: () => {
          for (const timer of timers) clearInterval(timer);
          waiting.clear();
          socket.close();
        },
      }),
    );
  });
}

function streamChannel(socket: Socket): Channel {
  let pending = Buffer.alloc(0);
  const waiting = new Map<string, (m: Message) => void>();
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 20) {
      const size = 20 + pending.readUInt16BE(2);
      if (pending.length < size) break;
      const m = decode(pending.subarray(0, size));
      pending = pending.subarray(size);
      if (m) waiting.get(m.transactionId.toString("hex"))?.(m);
    }
  });
  return {
    ask: (request, id) =>
      new Promise((done) => {
        waiting.set(id.toString("hex"), (m) => {
          waiting.delete(id.toString("hex"));
          done(m);
        });
        socket.write(request);
      }),
    close: () => socket.destroy(),
  };
}

export type TurnTransport = "udp" | "tcp" | "tls";

export interface TurnProbeOptions {
  host: string;
  port: number;
  transport: TurnTransport;
  /** Without them the probe only checks that the server answers (a Binding request). */
  username?: string;
  credential?: string;
  /** TLS: the name to verify and send as SNI (default host) and extra trusted CAs (PEM). */
  servername?: string;
  ca?: string;
  timeoutMs?: number;
}

export type TurnProbeResult =
  | {
      ok: true;
      rttMs: number;
      /** The relayed address the server allocated (absent for a Binding-only probe). */
      relayed: { address: string; port: number } | null;
      /** Our address as the server saw it. */
      mapped: { address: string; port: number } | null;
    }
  | {
      ok: false;
      /** "timeout": no answer; "refused": could not connect; "rejected": the server said no (see code). */
      failure: "timeout" | "refused" | "rejected";
      code?: number;
      message: string;
    };

async function open(options: TurnProbeOptions): Promise<Channel> {
  if (options.transport === "udp") return udpChannel(options.host, options.port);
  const socket: Socket = await new Promise((resolve, reject) => {
    const s =
      options.transport === "tls"
        ? tlsConnect({
            host: options.host,
            port: options.port,
            // SNI carries names only; an address is checked against the certificate's IP entries.
            ...(options.servername || !isIP(options.host)
              ? { servername: options.servername ?? options.host }
              : {}),
            ...(options.ca ? { ca: options.ca } : {}),
          })
        : tcpConnect({ host: options.host, port: options.port });
    s.once(options.transport === "tls" ? "secureConnect" : "connect", () => resolve(s));
    s.once("error", reject);
  });
  socket.on("error", () => {});
  return streamChannel(socket);
}

/**
 * Asks the TURN server for a UDP relay (Allocate with the long-term credential), then frees it again.
 * Resolves with what happened; never throws for a network or server answer.
 */
export async function probeTurn(options: TurnProbeOptions): Promise<TurnProbeResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const started = performance.now();
  let channel: Channel;
  try {
    channel = await withTimeout(open(options), timeoutMs);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, failure: message === "timeout" ? "timeout" : "refused", message };
  }
  try {
    return await withTimeout(exchange(channel, options, started), timeoutMs);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, failure: "timeout", message };
  } finally {
    channel.close();
  }
}

async function exchange(
  channel: Channel,
  options: TurnProbeOptions,
  started: number,
): Promise<TurnProbeResult> {
  const request = (type: number, attrs: [number, Buffer][], key?: Buffer) => {
    const id = randomBytes(12);
    return channel.ask(encode(type, id, attrs, key), id);
  };
  if (options.username === undefined || options.credential === undefined) {
    const answer = await request(BINDING, []);
    const rttMs = performance.now() - started;
    return { ok: true, rttMs, relayed: null, mapped: xorAddress(answer.attrs.get(ATTR.mapped)) };
  }
  const udp = Buffer.from([17, 0, 0, 0]);
  const first = await request(ALLOCATE, [[ATTR.transport, udp]]);
  const rttMs = performance.now() - started;
  const challenge = errorOf(first.attrs.get(ATTR.errorCode));
  const realm = first.attrs.get(ATTR.realm);
  const nonce = first.attrs.get(ATTR.nonce);
  if (first.type !== (ALLOCATE | ERROR) || challenge?.code !== 401 || !realm || !nonce) {
    return { ok: false, failure: "rejected", code: challenge?.code, message: "unexpected first answer" };
  }
  const username = Buffer.from(options.username, "utf8");
  const key = createHash("md5")
    .update(`${options.username}:${realm.toString("utf8")}:${options.credential}`)
    .digest();
  const auth: [number, Buffer][] = [
    [ATTR.username, username],
    [ATTR.realm, realm],
    [ATTR.nonce, nonce],
  ];
  const second = await request(ALLOCATE, [[ATTR.transport, udp], ...auth], key);
  if (second.type !== (ALLOCATE | SUCCESS)) {
    const error = errorOf(second.attrs.get(ATTR.errorCode));
    return {
      ok: false,
      failure: "rejected",
      code: error?.code,
      message: `${error?.code ?? "?"} ${error?.reason ?? "allocate refused"}`,
    };
  }
  const relayed = xorAddress(second.attrs.get(ATTR.relayed));
  const mapped = xorAddress(second.attrs.get(ATTR.mapped));
  // Free the relay at once rather than leave it to the server's lifetime timer.
  const zero = Buffer.alloc(4);
  await withTimeout(request(REFRESH, [[ATTR.lifetime, zero], ...auth], key), 1000).catch(() => {});
  return { ok: true, rttMs, relayed, mapped };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export interface IceProbeOptions {
  host: string;
  port: number;
  transport: "udp" | "tcp";
  /** The media host's ICE parameters from create-transport. */
  usernameFragment: string;
  password: string;
  timeoutMs?: number;
}

export type IceProbeResult =
  | { ok: true; rttMs: number }
  | { ok: false; failure: "timeout" | "refused" | "rejected"; code?: number; message: string };

/** ICE-TCP (RFC 6544) frames each STUN message with a 2-byte length. */
function framedChannel(socket: Socket): Channel {
  let pending = Buffer.alloc(0);
  const waiting = new Map<string, (m: Message) => void>();
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const size = pending.readUInt16BE(0);
      if (pending.length < 2 + size) break;
      const m = decode(pending.subarray(2, 2 + size));
      pending = pending.subarray(2 + size);
      if (m) waiting.get(m.transactionId.toString("hex"))?.(m);
    }
  });
  return {
    ask: (request, id) =>
      new Promise((done) => {
        waiting.set(id.toString("hex"), (m) => {
          waiting.delete(id.toString("hex"));
          done(m);
        });
        const head = Buffer.alloc(2);
        head.writeUInt16BE(request.length, 0);
        socket.write(Buffer.concat([head, request]));
      }),
    close: () => socket.destroy(),
  };
}

/**
 * An ICE connectivity check against a media host's candidate, as a browser's first one: a Binding request
 * with the host's ufrag and the short-term credential (its ICE password). A success answer means media can
 * flow on that path; nothing is set up on the host beyond its ICE state.
 */
export async function probeIce(options: IceProbeOptions): Promise<IceProbeResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const started = performance.now();
  let channel: Channel;
  try {
    if (options.transport === "udp") channel = await udpChannel(options.host, options.port);
    else {
      const socket: Socket = await withTimeout(
        new Promise((resolve, reject) => {
          const s = tcpConnect({ host: options.host, port: options.port });
          s.once("connect", () => resolve(s));
          s.once("error", reject);
        }),
        timeoutMs,
      );
      socket.on("error", () => {});
      channel = framedChannel(socket);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, failure: message === "timeout" ? "timeout" : "refused", message };
  }
  try {
    const id = randomBytes(12);
    const priority = Buffer.alloc(4);
    priority.writeUInt32BE(0x6e0001ff, 0);
    const username = Buffer.from(`${options.usernameFragment}:nexuscheck`, "utf8");
    const request = encode(
      BINDING,
      id,
      [
        [ATTR.username, username],
        [0x0024, priority],
        [0x802a, randomBytes(8)],
      ],
      Buffer.from(options.password, "utf8"),
      true,
    );
    const answer = await withTimeout(channel.ask(request, id), timeoutMs);
    if (answer.type === (BINDING | SUCCESS)) return { ok: true, rttMs: performance.now() - started };
    const error = errorOf(answer.attrs.get(ATTR.errorCode));
    return { ok: false, failure: "rejected", code: error?.code, message: error?.reason ?? "binding refused" };
  } catch (error) {
    return { ok: false, failure: "timeout", message: error instanceof Error ? error.message : String(error) };
  } finally {
    channel.close();
  }
}
