import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** The parsed body (a webhook event). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read events field by field
  event: any;
}

/** How a path answers its nth request (0-based): a status, or "hang" (never answer). */
export type Behaviour = (n: number) => number | "hang";

/**
 * A real HTTP server the dispatcher posts to. Each path has its own behaviour and request count; every
 * request is recorded (also the ones it answers 500 or leaves hanging).
 */
export class Receiver {
  readonly received: Received[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly counts = new Map<string, number>();
  private readonly hanging = new Set<ServerResponse>();
  private server: Server | undefined;
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const path = req.url ?? "/";
        const body = Buffer.concat(chunks).toString("utf8");
        let event: unknown = null;
        try {
          event = JSON.parse(body);
        } catch {}
        this.received.push({ path, headers: req.headers, body, event });
        const n = this.counts.get(path) ?? 0;
        this.counts.set(path, n + 1);
        const answer = (this.behaviours.get(path) ?? (() => 200))(n);
        if (answer === "hang") {
          this.hanging.add(res);
          res.on("close", () => this.hanging.delete(res));
          return;
        }
        res.writeHead(answer, { "content-type": "text/plain" }).end(answer < 300 ? "ok" : "nope");
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** A fresh path with its behaviour; returns the URL to register. */
  path(name: string, behaviour: Behaviour = () => 200): string {
    const path = `/${name}-${crypto.randomUUID().slice(0, 8)}`;
    this.behaviours.set(path, behaviour);
    return `${this.url}${path}`;
  }

  behave(url: string, behaviour: Behaviour): void {
    this.behaviours.set(new URL(url).pathname, behaviour);
  }

  at(url: string): Received[] {
    const path = new URL(url).pathname;
    return this.received.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
