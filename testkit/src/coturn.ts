import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnManaged, waitFor } from "./child.js";
import { freePort } from "./ports.js";

export interface TurnServerOptions {
  /** coturn's `static-auth-secret`: credentials are the TURN REST API ones control mints. */
  secret: string;
  realm?: string;
  /** Address coturn listens on and relays from (default 127.0.0.1). */
  listeningIp?: string;
  /** Address coturn relays from (default listeningIp). */
  relayIp?: string;
  /** A certificate and key (PEM files) turn TLS on, on a port of its own. */
  tls?: { cert: string; key: string };
  /** Extra config lines (e.g. `denied-peer-ip=...`). */
  extra?: string[];
}

export interface RunningTurnServer {
  host: string;
  /** UDP and TCP. */
  port: number;
  tlsPort: number | null;
  /** What coturn printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
  });
}

/**
 * A throwaway coturn (Debian's `coturn` package, `turnserver`) on free ports in a temp dir, with the shared
 * secret scheme and loopback peers allowed (the media hosts of the tests live on 127.0.0.1).
 */
export async function startTurnServer(options: TurnServerOptions): Promise<RunningTurnServer> {
  const dir = mkdtempSync(join(tmpdir(), "nexus-coturn-"));
  const host = options.listeningIp ?? "127.0.0.1";
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const tlsPort = options.tls ? await freePort() : null;
    const lines = [
      `listening-ip=${host}`,
      `relay-ip=${options.relayIp ?? host}`,
      `listening-port=${port}`,
      ...(options.tls && tlsPort
        ? [`tls-listening-port=${tlsPort}`, `cert=${options.tls.cert}`, `pkey=${options.tls.key}`, "no-dtls"]
        : ["no-tls", "no-dtls"]),
      "use-auth-secret",
      `static-auth-secret=${options.secret}`,
      `realm=${options.realm ?? "nexus.test"}`,
      "fingerprint",
      "allow-loopback-peers",
      "no-cli",
      "no-multicast-peers",
      `userdb=${join(dir, "turndb")}`,
      `pidfile=${join(dir, "turnserver.pid")}`,
      "log-file=stdout",
      "simple-log",
      ...(options.extra ?? []),
    ];
    const config = join(dir, "turnserver.conf");
    writeFileSync(config, `${lines.join("\n")}\n`);
    const child = spawnManaged("turnserver", ["-c", config], { dirs: [dir] });
    try {
      await waitFor("coturn", () => accepts(host, port), {
        timeoutMs: 15_000,
        abort: () => (child.exited() ? `exited early:\n${child.output()}` : null),
      });
      if (tlsPort) await waitFor("coturn tls", () => accepts(host, tlsPort), { timeoutMs: 15_000 });
    } catch (err) {
      lastError = err;
      await child.stop("SIGKILL");
      if (/in use|cannot bind/i.test(child.output())) continue;
      break;
    }
    return {
      host,
      port,
      tlsPort,
      output: () => child.output(),
      stop: async () => {
        await child.stop("SIGTERM");
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError instanceof Error
    ? lastError
    : new Error(`turnserver did not start (apt-get install coturn): ${String(lastError)}`);
}
