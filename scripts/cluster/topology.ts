/**
 * The production topology as real processes on this machine, for tests and for people without Docker:
 * caddy (one HTTPS origin, its internal CA), coturn, PostgreSQL, Redis, control (serving the web client) and
 * N media hosts, each in the single-port mode and reached through the proxy at /media/<host-id>.
 * Everything listens on loopback on free ports; the data is throwaway (temp directories, removed on stop).
 */
import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type ManagedChild, spawnManaged, waitFor } from "@nexus/testkit/child";
import { startTurnServer } from "@nexus/testkit/coturn";
import { freePort } from "@nexus/testkit/ports";
import { startPostgres } from "@nexus/testkit/postgres";
import { startRedis } from "@nexus/testkit/redis";

const ROOT = resolve(import.meta.dirname, "..", "..");

export interface ClusterOptions {
  /** Media hosts (default 2). */
  mediaHosts?: number;
  /** The built web client control serves (default web/dist). */
  webDir?: string;
  /** Extra environment for control and the media hosts (LOG_LEVEL, ...). */
  env?: Record<string, string>;
}

export interface ClusterMediaHost {
  id: string;
  /** Its signaling port on loopback (behind the proxy). */
  port: number;
  /** Its one UDP and TCP media port. */
  webRtcPort: number;
  publicUrl: string;
}

export interface Cluster {
  /** The one HTTPS origin, e.g. https://127.0.0.1:43210 */
  origin: string;
  /** PEM of caddy's internal CA root, and base64 SHA-256 SPKI hashes of the root and intermediate. */
  caPem: string;
  caSpki: string[];
  turn: { host: string; port: number; secret: string };
  control: { port: number };
  media: ClusterMediaHost[];
  /** The variables each process was started with (compared with compose and DEPLOY.md by a test). */
  env: { control: Record<string, string>; media: Record<string, string>[] };
  /** Output tails of every process, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** GET over HTTPS trusting only `ca`; resolves the status (0 when it did not answer). */
export function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((done) => {
    const req = request(url, { ca, timeout: 3000 }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => done(0));
    req.end();
  });
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

const spki = (pem: string) =>
  createHash("sha256")
    .update(new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" }))
    .digest("base64");

/** The Caddyfile of the cluster: the same routes as infra/Caddyfile, on loopback with the internal CA. */
export function clusterCaddyfile(options: {
  httpsPort: number;
  httpPort: number;
  storage: string;
  controlPort: number;
  media: { id: string; port: number }[];
}): string {
  const media = options.media.flatMap((m) => [
    `\t@${m.id} path /media/${m.id} /media/${m.id}/*`,
    `\thandle @${m.id} {`,
    `\t\turi strip_prefix /media/${m.id}`,
    `\t\treverse_proxy 127.0.0.1:${m.port}`,
    "\t}",
  ]);
  return [
    "{",
    "  admin off",
    "  auto_https disable_redirects",
    "  skip_install_trust",
    `  http_port ${options.httpPort}`,
    `  https_port ${options.httpsPort}`,
    `  storage file_system ${options.storage}`,
    "}",
    `https://127.0.0.1:${options.httpsPort} {`,
    // Loopback only: this topology is for tests and trying it out on one machine.
    "\tbind 127.0.0.1",
    "\ttls internal",
    // The development sign-in answers only clients of this machine and refuses proxied requests (they all
    // look local); on this loopback-only proxy every client is local, so /dev/* goes through unmarked.
    "\t@dev path /dev/*",
    "\thandle @dev {",
    `\t\treverse_proxy 127.0.0.1:${options.controlPort} {`,
    "\t\t\theader_up -X-Forwarded-For",
    "\t\t\theader_up -X-Forwarded-Proto",
    "\t\t\theader_up -X-Forwarded-Host",
    "\t\t\theader_up -Via",
    "\t\t}",
    "\t}",
    "\t@internal path /metrics /media/*/metrics",
    "\thandle @internal {",
    "\t\trespond 404",
    "\t}",
    ...media,
    "\thandle {",
    `\t\treverse_proxy 127.0.0.1:${options.controlPort}`,
    "\t}",
    "}",
    "",
  ].join("\n");
}

interface Links {
  databaseUrl: string;
  redisUrl: string;
  /** Extra settings (LOG_LEVEL, ...) for every process. */
  extra: Record<string, string>;
}

const commonEnv = (links: Links, joinSecret: string) => ({
  NODE_ENV: "development",
  DATABASE_URL: links.databaseUrl,
  REDIS_URL: links.redisUrl,
  JOIN_TOKEN_SECRET: joinSecret,
  LOG_DIR: "-",
  LOG_LEVEL: "warn",
  ...links.extra,
});

/** Control's environment in the cluster (development: the web page's sign-in form works). */
export function controlEnvFor(
  o: Links & {
    port: number;
    origin: string;
    webDir: string;
    joinSecret: string;
    jwtSecret: string;
    turnSecret: string;
    turn: { host: string; port: number };
  },
): Record<string, string> {
  return {
    ...commonEnv(o, o.joinSecret),
    PORT: String(o.port),
    HOST: "127.0.0.1",
    JWT_SECRET: o.jwtSecret,
    WEB_DIR: o.webDir,
    TURN_SECRET: o.turnSecret,
    TURN_URLS: `turn:${o.turn.host}:${o.turn.port}?transport=udp,turn:${o.turn.host}:${o.turn.port}?transport=tcp`,
    TURN_TTL_SECONDS: "3600",
    CORS_ORIGINS: o.origin,
  };
}

/** A media host's environment in the cluster: single-port mode, signaling behind the proxy. */
export function mediaEnvFor(
  o: Links & { joinSecret: string; host: ClusterMediaHost },
): Record<string, string> {
  return {
    ...commonEnv(o, o.joinSecret),
    MEDIA_HOST_ID: o.host.id,
    MEDIA_BIND: "127.0.0.1",
    MEDIA_PORT: String(o.host.port),
    MEDIA_PUBLIC_URL: o.host.publicUrl,
    MEDIASOUP_LISTEN_IP: "127.0.0.1",
    MEDIASOUP_WEBRTC_PORT: String(o.host.webRtcPort),
    MEDIA_HEARTBEAT_MS: "1000",
    MEDIA_DRAIN_MS: "1000",
  };
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), "nexus-cluster-"));
  const children: { name: string; child: ManagedChild }[] = [];
  const servers: { stop(): Promise<void> }[] = [];
  const logs = () => children.map(({ name, child }) => `--- ${name}\n${child.output()}`).join("\n");
  const stop = async () => {
    for (const { child } of [...children].reverse()) await child.stop("SIGTERM");
    for (const server of servers.reverse()) await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  const start = (name: string, command: string, args: string[], env: Record<string, string>) => {
    const child = spawnManaged(command, args, { env: { ...process.env, ...env }, cwd: ROOT });
    children.push({ name, child });
    return child;
  };
  const ready = (name: string, child: ManagedChild, check: () => Promise<boolean>) =>
    waitFor(name, check, {
      timeoutMs: 60_000,
      intervalMs: 200,
      abort: () => (child.exited() ? `exited:\n${child.output()}` : null),
    });

  try {
    const turnSecret = randomBytes(24).toString("hex");
    const [pg, redis, turn] = await Promise.all([
      startPostgres(),
      startRedis(),
      startTurnServer({ secret: turnSecret }),
    ]);
    servers.push(pg, redis, turn);

    const httpsPort = await freePort();
    const origin = `https://127.0.0.1:${httpsPort}`;
    const joinSecret = randomBytes(24).toString("hex");
    const controlPort = await freePort();
    const secrets = { joinSecret, turnSecret, jwtSecret: randomBytes(24).toString("hex") };
    const links = { databaseUrl: pg.url, redisUrl: redis.url, extra: options.env ?? {} };
    const controlEnv = controlEnvFor({
      ...links,
      ...secrets,
      port: controlPort,
      origin,
      webDir: options.webDir ?? join(ROOT, "web", "dist"),
      turn: { host: turn.host, port: turn.port },
    });
    const control = start(
      "control",
      process.execPath,
      ["--import", "tsx", "server/src/entry/control.ts"],
      controlEnv,
    );
    await ready("control", control, () => httpOk(`http://127.0.0.1:${controlPort}/health`));

    const media: ClusterMediaHost[] = [];
    const mediaEnvs: Record<string, string>[] = [];
    for (let i = 1; i <= (options.mediaHosts ?? 2); i++) {
      const id = `media-${i}`;
      const host = {
        id,
        port: await freePort(),
        webRtcPort: await freePort(),
        publicUrl: `wss://127.0.0.1:${httpsPort}/media/${id}`,
      };
      media.push(host);
      mediaEnvs.push(mediaEnvFor({ ...links, joinSecret, host }));
    }
    const hosts = media.map((host, i) =>
      start(host.id, process.execPath, ["--import", "tsx", "media/src/entry/node.ts"], mediaEnvs[i]!),
    );
    await Promise.all(
      media.map((host, i) => ready(host.id, hosts[i]!, () => httpOk(`http://127.0.0.1:${host.port}/health`))),
    );

    const storage = join(dir, "caddy");
    const caddyfile = join(dir, "Caddyfile");
    writeFileSync(
      caddyfile,
      clusterCaddyfile({ httpsPort, httpPort: await freePort(), storage, controlPort, media }),
    );
    const caddy = start("caddy", "caddy", ["run", "--config", caddyfile, "--adapter", "caddyfile"], {
      HOME: dir,
      XDG_DATA_HOME: join(dir, "data"),
      XDG_CONFIG_HOME: join(dir, "config"),
    });
    const ca = join(storage, "pki", "authorities", "local");
    await ready("caddy CA", caddy, async () => existsSync(join(ca, "intermediate.crt")));
    const caPem = readFileSync(join(ca, "root.crt"), "utf8");
    await ready("caddy", caddy, async () => (await httpsStatus(`${origin}/health`, caPem)) === 200);

    return {
      origin,
      caPem,
      caSpki: [spki(caPem), spki(readFileSync(join(ca, "intermediate.crt"), "utf8"))],
      turn: { host: turn.host, port: turn.port, secret: turnSecret },
      control: { port: controlPort },
      media,
      env: { control: controlEnv, media: mediaEnvs },
      logs,
      stop,
    };
  } catch (error) {
    const output = logs();
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${output}`);
  }
}
