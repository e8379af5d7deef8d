import { connect, createServer, type Socket } from "node:net";

/** A TCP proxy on a loopback port a test owns, to cut or refuse a client's connection to a server. */
export interface TcpProxy {
  readonly port: number;
  /** Connections accepted since the start, numbered from 1 in the order they came (each reconnect adds one). */
  readonly accepted: number;
  /** Numbers of the connections open now. */
  open(): number[];
  /**
   * Resets connection `n` (every open one without it), both ends at once: the peers see a reset, as on a
   * network drop.
   */
  cut(n?: number): void;
  /** While refusing, new connections are accepted and dropped at once (a server that cannot be reached). */
  refuse(on: boolean): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const open = new Map<number, [Socket, Socket]>();
  let refusing = false;
  let accepted = 0;
  const server = createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const n = ++accepted;
    const upstream = connect(target.port, target.host ?? "127.0.0.1");
    open.set(n, [client, upstream]);
    for (const s of [client, upstream]) {
      s.on("error", () => {});
      s.on("close", () => {
        open.delete(n);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== "object") throw new Error("proxy has no port");
  const reset = (pair: [Socket, Socket]) => {
    for (const s of pair) if (!s.destroyed) s.resetAndDestroy();
  };
  return {
    port: address.port,
    get accepted() {
      return accepted;
    },
    open: () => [...open.keys()],
    cut(n) {
      if (n === undefined) for (const pair of [...open.values()]) reset(pair);
      else {
        const pair = open.get(n);
        if (pair) reset(pair);
      }
    },
    refuse(on) {
      refusing = on;
    },
    close() {
      for (const [a, b] of open.values()) {
        a.destroy();
        b.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
