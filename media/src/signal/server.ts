import uWS from "uWebSockets.js";
import type { Logger } from "@nexus/platform";
import { AppError, isAppError } from "@nexus/shared/errors";
import { CLOSE_CODES } from "@nexus/shared/signaling/close-codes";
import type { RequestType } from "@nexus/shared/signaling/requests";
import type { Admitted, HandlerContext, HandlerGroup, Session } from "../handlers/types.js";
import type { RoomChannel } from "../sfu/room-channel.js";
import { ClientConnection, TopicChannel } from "./connection.js";
import { createDispatch, errorBody, idOf, reply } from "./dispatch.js";

const CLOSE = CLOSE_CODES;

/**
 * uWS drops a socket whose message passes its maxPayloadLength without a close frame (the client sees 1006).
 * It is given this much more room, so that a message over our limit is read and answered with 1009; only one
 * past the ceiling is still dropped outright.
 */
const uwsPayloadCeiling = (limit: number) => Math.min(16 * 1024 * 1024, Math.max(4 * limit, 256 * 1024));

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
  authenticate(query: { token: string; resume: string; replaces: string }): Promise<Admitted>;
  context(session: Session): HandlerContext;
  /** The session's socket closed (for any reason). */
  onSessionClosed(session: Session): void;
  http: Record<string, () => Promise<{ status: number; contentType: string; body: string }>>;
}

interface UserData {
  auth: Admitted | null;
  session: Session | null;
  conn: ClientConnection | null;
  bucket: { tokens: number; at: number; strikes: number };
}

export interface SignalServer {
  readonly port: number;
  /** A room's broadcast channel on its own uWS topic (`room/<name>/<n>`, fresh for every call). */
  channel(name: string): RoomChannel;
  close(): void;
}

export async function startSignalServer(options: SignalServerOptions): Promise<SignalServer> {
  const { logger } = options;
  /** Open sockets, each with its session. */
  const sockets = new Set<ClientConnection>();
  /** Per peer being resumed, the one socket that holds its resume token (see open). */
  const resuming = new WeakMap<object, ClientConnection>();
  const dispatch = createDispatch({ handlers: options.handlers, context: options.context, logger });
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
    for (const conn of sockets) {
      if (conn.closed) continue;
      conn.cork(() => res.cork(upgrade));
      return;
    }
    upgrade();
  };

  app.ws<UserData>("/*", {
    maxPayloadLength: uwsPayloadCeiling(options.maxMessageBytes),
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
      const replaces = req.getQuery("replaces") ?? "";
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      options.authenticate({ token, resume, replaces }).then(
        (auth) => {
          if (aborted) return;
          const data: UserData = {
            auth,
            session: null,
            conn: null,
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
      const conn = new ClientConnection(ws, options.maxBackpressureBytes);
      const resumed = data.auth.resumePeer?.peer;
      if (resumed) {
        // One resume token, one socket at a time: a newer one takes over from any still open.
        const previous = resuming.get(resumed);
        if (previous && !previous.closed)
          previous.close(CLOSE.replaced, "another connection resumed this session");
        resuming.set(resumed, conn);
      }
      data.session = { ...data.auth, conn, room: null, peer: null };
      data.conn = conn;
      data.auth = null;
      sockets.add(conn);
    },

    message: (ws, message) => {
      const data = ws.getUserData();
      const session = data.session;
      const conn = data.conn;
      if (!session || !conn) return;
      if (message.byteLength > options.maxMessageBytes) {
        conn.close(CLOSE.messageTooBig, "message too big");
        return;
      }
      // The ArrayBuffer is only valid during this callback: decode it now.
      const text = Buffer.from(message).toString("utf8");
      if (!takeToken(data.bucket, options.ratePerSec, options.rateBurst)) {
        data.bucket.strikes += 1;
        if (data.bucket.strikes > options.rateBurst) {
          conn.close(CLOSE.rateLimited, "rate limited");
          return;
        }
        reply(conn.sendReply, idOf(text), { code: "rate_limited", message: "too many messages" });
        return;
      }
      // Only a run of refusals disconnects; a client that slows down starts afresh.
      data.bucket.strikes = 0;
      void dispatch(session, text, conn.sendReply);
    },

    close: (ws) => {
      const { session, conn } = ws.getUserData();
      if (!session || !conn) return;
      conn.closed = true;
      sockets.delete(conn);
      const resumed = session.resumePeer?.peer;
      if (resumed && resuming.get(resumed) === conn) resuming.delete(resumed);
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
      for (const conn of [...sockets]) conn.close(CLOSE.shuttingDown, "host shutting down");
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
