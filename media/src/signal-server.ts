import uWS from "uWebSockets.js";
import type { Logger } from "@nexus/platform";
import { AppError, ERROR_STATUS, type ErrorCode, isAppError } from "@nexus/shared/errors";
import { isMessageId, type MessageId, readEnvelope } from "@nexus/shared/signaling/envelope";
import { FAST_PARSE } from "@nexus/shared/signaling/fast-parse";
import type { NotificationData, NotificationType } from "@nexus/shared/signaling/notifications";
import type { RequestType } from "@nexus/shared/signaling/requests";
import { isRequestType, REQUESTS } from "@nexus/shared/signaling/requests";
import * as v from "valibot";
import type { HandlerContext, HandlerGroup, Session } from "./handlers/index.js";
import type { Connection } from "./peer.js";
import { LoopChannel, type RoomChannel } from "./room-channel.js";

/** Close codes a client can act on. */
export const CLOSE = {
  meetingEnded: 4000,
  tooSlow: 4008,
  rateLimited: 4029,
  replaced: 4409,
  shuttingDown: 1001,
} as const;

export interface SignalServerOptions {
  bind: string;
  port: number;
  maxMessageBytes: number;
  maxBackpressureBytes: number;
  ratePerSec: number;
  rateBurst: number;
  logger: Logger;
  handlers: HandlerGroup<RequestType>;
  /** Runs before the upgrade; throwing an AppError refuses the connection with its HTTP status. */
  authenticate(query: { token: string; resume: string }): Promise<Omit<Session, "conn" | "room" | "peer">>;
  context(session: Session): HandlerContext;
  /** The session's socket closed (for any reason). */
  onSessionClosed(session: Session): void;
  http: Record<string, () => Promise<{ status: number; contentType: string; body: string }>>;
}

/**
 * A client's socket as the rest of the host sees it: send-safe after close, backpressure-aware.
 *
 * Backpressure: a socket may hold at most `maxBackpressureBytes` of data the client has not read yet (past
 * what the kernel buffers). A message that finds more than that waiting is not sent and the connection is
 * cut: a direct send here ends it with 4008, a room broadcast (a uWS topic publish) meets the same limit in
 * uWS (maxBackpressure with closeOnBackpressureLimit), which shuts the socket down. Either way the close
 * handler runs, the peer enters its reconnect grace period like any dropped peer, and every other socket
 * carries on. The client sees an abnormal close (1006) in both cases: no close frame gets through a buffer
 * it is not reading.
 */
export class ClientConnection implements Connection {
  private static nextId = 1;
  readonly id = ClientConnection.nextId++;
  closed = false;
  /** The room topic this socket is subscribed to, if any (a socket is in at most one room). */
  private topic: string | null = null;

  constructor(
    private readonly ws: uWS.WebSocket<UserData>,
    private readonly maxBackpressureBytes: number,
  ) {}

  subscribe(topic: string): void {
    if (this.closed || this.topic === topic) return;
    if (this.topic !== null) this.ws.unsubscribe(this.topic);
    this.topic = topic;
    this.ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    if (this.topic !== topic) return;
    this.topic = null;
    // A closed socket was unsubscribed by uWS itself; its handle may no longer be touched.
    if (!this.closed) this.ws.unsubscribe(topic);
  }

  /**
   * Publishes to everyone on the topic but this socket. False (nothing sent) unless this socket is open and
   * subscribed to it: uWS only skips a sender that is a subscriber.
   */
  publishAsSender(topic: string, text: string): boolean {
    if (this.closed || this.topic !== topic) return false;
    this.ws.publish(topic, text, false);
    return true;
  }

  notify<T extends NotificationType>(type: T, data: NotificationData<T>): void {
    this.send(JSON.stringify({ type, data }));
  }

  sendSerialized(text: string): void {
    this.send(text);
  }

  send(text: string): void {
    if (this.closed) return;
    // A client that does not read its socket is cut off rather than allowed to grow our memory (see above).
    if (this.ws.getBufferedAmount() > this.maxBackpressureBytes) {
      this.close(CLOSE.tooSlow, "too slow");
      return;
    }
    this.ws.send(text, false);
  }

  /** Runs `fn` with this socket holding the loop's cork (see upgradeOutsideCork). */
  cork(fn: () => void): void {
    if (this.closed) fn();
    else this.ws.cork(fn);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.end(code, reason);
  }
}

interface UserData {
  auth: Omit<Session, "conn" | "room" | "peer"> | null;
  session: Session | null;
  bucket: { tokens: number; at: number; strikes: number };
}

const errorBody = (code: ErrorCode, message: string) => ({ code, message });

function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  // mediasoup reports bad client input (wrong ids, unsupported parameters) as TypeError/UnsupportedError.
  if (error instanceof TypeError || (error as Error)?.name === "UnsupportedError") {
    return new AppError("bad_request", (error as Error).message);
  }
  // A request whose data nests deeper than copying it can go (mediasoup deep-copies what it is given; the
  // 64 KB message limit allows about 13,000 levels) is the client's fault, not ours.
  if (error instanceof RangeError && error.message.includes("call stack")) {
    return new AppError("bad_request", "the message nests too deeply");
  }
  return new AppError("internal", "internal error");
}

export interface SignalServer {
  readonly port: number;
  /** A room's broadcast channel on its own uWS topic (`room/<name>/<n>`, fresh for every call). */
  channel(name: string): RoomChannel;
  close(): void;
}

/**
 * Room broadcasts as a uWS topic: one publish, the fan-out to the subscribed sockets happens in C++ (and
 * each socket's pending messages go out corked, in one write). Connections that are not this server's
 * sockets (benches handing a room their own Connection) get a plain send.
 */
class TopicChannel implements RoomChannel {
  private readonly sockets = new Set<ClientConnection>();
  private readonly others = new LoopChannel();

  constructor(
    private readonly app: uWS.TemplatedApp,
    private readonly topic: string,
  ) {}

  add(conn: Connection): void {
    if (conn instanceof ClientConnection) {
      this.sockets.add(conn);
      conn.subscribe(this.topic);
    } else this.others.add(conn);
  }

  remove(conn: Connection): void {
    if (conn instanceof ClientConnection) {
      this.sockets.delete(conn);
      conn.unsubscribe(this.topic);
    } else this.others.remove(conn);
  }

  publish(text: string, except: Connection | null): void {
    // Published from the excepted socket, uWS skips it; any other way, it is not subscribed anyway.
    const sent =
      except instanceof ClientConnection &&
      this.sockets.has(except) &&
      except.publishAsSender(this.topic, text);
    if (!sent && this.sockets.size > 0) this.app.publish(this.topic, text, false);
    if (this.others.size > 0) this.others.publish(text, except);
  }

  close(): void {
    for (const conn of this.sockets) conn.unsubscribe(this.topic);
    this.sockets.clear();
    this.others.close();
  }
}

export async function startSignalServer(options: SignalServerOptions): Promise<SignalServer> {
  const { logger } = options;
  const sessions = new Set<Session>();
  const app = uWS.App();

  /**
   * Completes an upgrade decided after async work without `res.cork(() => res.upgrade(...))`, which in our
   * uWS (uWebSockets.js 20.30) intermittently closes the new socket right after its open handler: after
   * the callback, HttpResponse::cork() tells an upgrade from a plain response only by the socket's address
   * changing, but the upgrade reallocates the socket smaller, in place (same address). cork() then runs
   * its HTTP "Connection: close" check on the upgraded socket, reading the old HTTP state field from bytes
   * that now belong to the allocator or the WebSocket, and when they happen to have that bit set it shuts
   * the socket down (1006 on both sides, no close frame, nothing sent). Fixed upstream in uWebSockets'
   * cork() (it also compares the socket context) in 2026; not in the version we can install.
   *
   * Not corked, upgrade() writes the 101 straight to the socket and nothing runs after it. uWebSockets.js
   * prints a warning for every upgrade made outside a cork callback; it only looks at whether one of its
   * cork callbacks is running, so when another socket of ours is open we run the upgrade inside
   * `res.cork` nested in that socket's cork: that socket holds the loop's cork, so `res.cork` just calls
   * the function (no post-processing), and upgrade() sees `res` uncorked, exactly as unnested.
   */
  const upgradeOutsideCork = (res: uWS.HttpResponse, upgrade: () => void): void => {
    for (const session of sessions) {
      if (session.conn.closed) continue;
      session.conn.cork(() => res.cork(upgrade));
      return;
    }
    upgrade();
  };

  app.ws<UserData>("/*", {
    maxPayloadLength: options.maxMessageBytes,
    // The same limit as ClientConnection.send, for what uWS sends on its own: topic publishes.
    maxBackpressure: options.maxBackpressureBytes,
    closeOnBackpressureLimit: 1,
    idleTimeout: 60,
    sendPingsAutomatically: true,

    upgrade: (res, req, context) => {
      // RFC 6455 asks for `Connection: Upgrade`. uWS marks a request whose Connection header says `close`
      // (any 5-character value) to be closed once answered; upgraded from outside a cork (below), such a
      // socket would be shut while its open handler still runs and its close handler would never come.
      // Refused here, answered like any other HTTP request.
      if (!/(^|,)\s*upgrade\s*(,|$)/i.test(req.getHeader("connection"))) {
        res
          .writeStatus("400 bad_request")
          .writeHeader("content-type", "application/json")
          .end(JSON.stringify({ error: errorBody("bad_request", "expected Connection: Upgrade") }));
        return;
      }
      const key = req.getHeader("sec-websocket-key");
      const protocol = req.getHeader("sec-websocket-protocol");
      const extensions = req.getHeader("sec-websocket-extensions");
      const token = req.getQuery("token") ?? "";
      const resume = req.getQuery("resume") ?? "";
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      options.authenticate({ token, resume }).then(
        (auth) => {
          if (aborted) return;
          const data: UserData = {
            auth,
            session: null,
            bucket: { tokens: options.rateBurst, at: Date.now(), strikes: 0 },
          };
          upgradeOutsideCork(res, () => res.upgrade(data, key, protocol, extensions, context));
        },
        (error: unknown) => {
          if (aborted) return;
          const appError = isAppError(error) ? error : new AppError("unauthorized", "refused");
          if (!isAppError(error)) logger.error({ err: error }, "authentication failed unexpectedly");
          res.cork(() => {
            res
              .writeStatus(`${appError.status} ${appError.code}`)
              .writeHeader("content-type", "application/json")
              .end(JSON.stringify({ error: errorBody(appError.code, appError.message) }));
          });
        },
      );
    },

    open: (ws) => {
      const data = ws.getUserData();
      if (!data.auth) {
        ws.end(1011, "no session");
        return;
      }
      const session: Session = {
        ...data.auth,
        conn: new ClientConnection(ws, options.maxBackpressureBytes),
        room: null,
        peer: null,
      };
      data.session = session;
      data.auth = null;
      sessions.add(session);
    },

    message: (ws, message) => {
      const data = ws.getUserData();
      const session = data.session;
      if (!session) return;
      // The ArrayBuffer is only valid during this callback: decode it now.
      const text = Buffer.from(message).toString("utf8");
      if (!takeToken(data.bucket, options.ratePerSec, options.rateBurst)) {
        data.bucket.strikes += 1;
        if (data.bucket.strikes > options.rateBurst) {
          session.conn.close(CLOSE.rateLimited, "rate limited");
          return;
        }
        reply(session, idOf(text), { code: "rate_limited", message: "too many messages" });
        return;
      }
      // Only a run of refusals disconnects; a client that slows down starts afresh.
      data.bucket.strikes = 0;
      void handle(session, text);
    },

    close: (ws) => {
      const session = ws.getUserData().session;
      if (!session) return;
      session.conn.closed = true;
      sessions.delete(session);
      options.onSessionClosed(session);
    },
  });

  for (const [path, route] of Object.entries(options.http)) {
    app.get(path, (res) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      route().then(
        (answer) => {
          if (aborted) return;
          res.cork(() =>
            res
              .writeStatus(String(answer.status))
              .writeHeader("content-type", answer.contentType)
              .end(answer.body),
          );
        },
        (err) => {
          logger.error({ err, path }, "http route failed");
          if (aborted) return;
          res.cork(() =>
            res.writeStatus("500").end(JSON.stringify({ error: errorBody("internal", "internal error") })),
          );
        },
      );
    });
  }
  app.any("/*", (res) => {
    res.writeStatus("404").writeHeader("content-type", "application/json");
    res.end(JSON.stringify({ error: errorBody("not_found", "no such route") }));
  });

  async function handle(session: Session, text: string): Promise<void> {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      reply(session, null, { code: "bad_request", message: "message is not JSON" });
      return;
    }
    const envelope = readEnvelope(raw);
    if (!envelope) {
      reply(session, idOf(raw), { code: "bad_request", message: "expected { id, type, data }" });
      return;
    }
    const { id, type } = envelope;
    if (!isRequestType(type)) {
      reply(session, id, { code: "bad_request", message: `unknown message type ${type}` });
      return;
    }
    // A request with a written-out check (consume's RTP capabilities) skips the schema walk when it passes;
    // anything that check refuses gets the schema's verdict and its precise error.
    let input = FAST_PARSE[type]?.(envelope.data ?? {});
    if (input === undefined) {
      const parsed = v.safeParse(REQUESTS[type].data, envelope.data ?? {});
      if (!parsed.success) {
        const issue = parsed.issues[0];
        const where = issue ? (v.getDotPath(issue) ?? "data") : "data";
        reply(session, id, {
          code: "validation_failed",
          message: `${type}: ${where}: ${issue?.message ?? "invalid"}`,
        });
        return;
      }
      input = parsed.output;
    }
    try {
      const handler = options.handlers[type] as (ctx: HandlerContext, data: unknown) => unknown;
      const result = await handler(options.context(session), input);
      session.conn.send(JSON.stringify({ id, success: true, data: result }));
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code === "internal") logger.error({ err: error, type }, "handler failed");
      reply(session, id, errorBody(appError.code, appError.message));
    }
  }

  function reply(session: Session, id: MessageId | null, error: { code: ErrorCode; message: string }): void {
    session.conn.send(JSON.stringify({ id, success: false, error }));
  }

  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen(options.bind, options.port, (socket) => {
      if (socket) resolve(socket);
      else reject(new Error(`cannot listen on ${options.bind}:${options.port}`));
    });
  });
  const port = uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
  let closed = false;

  let channels = 0;
  return {
    port,
    channel: (name) => new TopicChannel(app, `room/${name}/${++channels}`),
    close() {
      if (closed) return;
      closed = true;
      uWS.us_listen_socket_close(listenSocket);
      for (const session of [...sessions]) session.conn.close(CLOSE.shuttingDown, "host shutting down");
    },
  };
}

function takeToken(bucket: UserData["bucket"], ratePerSec: number, burst: number): boolean {
  const now = Date.now();
  bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSec);
  bucket.at = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

/** Best effort: the id of a message we refuse without parsing it fully. */
function idOf(raw: unknown): MessageId | null {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (typeof value !== "object" || value === null || !("id" in value)) return null;
  return isMessageId(value.id) ? value.id : null;
}

export const statusOf = (code: ErrorCode): number => ERROR_STATUS[code];
