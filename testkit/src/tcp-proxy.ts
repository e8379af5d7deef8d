import { connect, createServer, type Socket } from "node:net";

/** A TCP proxy on a loopback port a test owns, to cut or refuse a client's connection to a server. */
export interface TcpProxy {
  readonly port: number;
  /** Connections accepted since the start (each reconnect adds one). */
  readonly accepted: number;
  /** Destroys every open connection now, both sides (the peers see a reset, as on a network drop). */
  cut(): void;
  /** While refusing, new connections are accepted and dropped at once (a server that cannot be reached). */
  refuse(on: boolean): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let refusing = false;
  let accepted = 0;
  const server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = connect(target.port, target.host ?? "127.0.0.1");
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      s.on("error", () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== "object") throw new Error("proxy has no port");
  return {
    port: address.port,
    get accepted() {
      return accepted;
    },
    cut() {
      for (const s of [...open]) s.resetAndDestroy();
    },
    refuse(on) {
      refusing = on;
    },
    close() {
      for (const s of [...open]) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
