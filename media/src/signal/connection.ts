import type uWS from "uWebSockets.js";
import { CLOSE_CODES } from "@nexus/shared/signaling/close-codes";
import type { NotificationData, NotificationType } from "@nexus/shared/signaling/notifications";
import type { Connection } from "../sfu/peer.js";
import { LoopChannel, type RoomChannel } from "../sfu/room-channel.js";

const CLOSE = CLOSE_CODES;

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
    private readonly ws: uWS.WebSocket<unknown>,
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

  /** The same as send, bound: the reply function of this socket's dispatched messages. */
  readonly sendReply = (text: string): void => this.send(text);

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

/**
 * Room broadcasts as a uWS topic: one publish, the fan-out to the subscribed sockets happens in C++ (and
 * each socket's pending messages go out corked, in one write). Connections that are not this server's
 * sockets (benches handing a room their own Connection) get a plain send.
 */
export class TopicChannel implements RoomChannel {
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
