import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnManaged, waitFor } from "./child.js";
import { freePort } from "./ports.js";
import type { RunningServer } from "./postgres.js";

function redisBinary(): string {
  return process.env.NEXUS_REDIS_SERVER ?? "redis-server";
}

/** One raw PING over RESP: enough to know the server is serving, without a client library. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

/** A throwaway redis-server on a free loopback port, no persistence; stop() kills it and its directory. */
export async function startRedis(): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), "nexus-redis-"));
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawnManaged(
      redisBinary(),
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
      ],
      { dirs: [dir] },
    );
    try {
      await waitFor("redis", () => pong(port), {
        timeoutMs: 15_000,
        abort: () => (child.exited() ? `exited early:\n${child.output()}` : null),
      });
    } catch (err) {
      lastError = err;
      await child.stop("SIGKILL");
      if (/in use|could not create server/i.test(child.output())) continue;
      break;
    }
    return {
      url: `redis://127.0.0.1:${port}`,
      stop: async () => {
        await child.stop("SIGTERM");
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError instanceof Error
    ? lastError
    : new Error(`redis-server did not start (apt-get install redis-server): ${String(lastError)}`);
}
