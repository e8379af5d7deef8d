import type { Connection } from "./peer.js";

/**
 * How a room's broadcasts reach the connections of its peers. The room says who is in (a peer joined or
 * resumed on a new connection) and who is out (left, removed, dropped); the channel delivers. The signal
 * server supplies one backed by uWebSockets.js topics, where the fan-out runs in C++; rooms built without a
 * signal server (benches driving a room directly) use the plain loop below.
 *
 * Order: a connection receives broadcasts in the order they were published, and a direct send to a
 * connection never overtakes a broadcast published to it before (uWS drains a socket's pending topic
 * messages before any direct send on it).
 */
export interface RoomChannel {
  /** From now on `conn` receives the room's broadcasts (nothing published before). */
  add(conn: Connection): void;
  /** `conn` receives no later broadcast; what was published before still reaches it first. */
  remove(conn: Connection): void;
  /** Delivers an already serialized notification to every connection in the channel but `except`. */
  publish(text: string, except: Connection | null): void;
  /** The room closed: every remaining connection leaves the channel. Idempotent. */
  close(): void;
}

/** One send per connection, in JavaScript: for connections that are not the signal server's sockets. */
export class LoopChannel implements RoomChannel {
  private readonly conns = new Set<Connection>();

  add(conn: Connection): void {
    this.conns.add(conn);
  }

  remove(conn: Connection): void {
    this.conns.delete(conn);
  }

  publish(text: string, except: Connection | null): void {
    for (const conn of this.conns) if (conn !== except) conn.sendSerialized(text);
  }

  close(): void {
    this.conns.clear();
  }

  get size(): number {
    return this.conns.size;
  }
}
