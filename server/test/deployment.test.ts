import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { clusterCaddyfile, controlEnvFor, mediaEnvFor } from "../../scripts/cluster/topology.js";

/*
 * The deployment is described three times: infra/docker-compose.yml (with infra/Caddyfile and
 * infra/turnserver.conf), the cluster command (scripts/cluster/topology.ts) and infra/DEPLOY.md. Docker is
 * not available here, so these checks keep the three naming the same variables and ports.
 */

const ROOT = resolve(import.meta.dirname, "..", "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const compose = read("infra/docker-compose.yml");
const caddyfile = read("infra/Caddyfile");
const turnConf = read("infra/turnserver.conf");
const deploy = read("infra/DEPLOY.md");

interface Service {
  env: Map<string, string>;
  ports: string[];
}

/** Just the shapes the compose file uses: anchors of maps, services with environment (merging anchors) and ports. */
function parseCompose(text: string): Map<string, Service> {
  const anchors = new Map<string, Map<string, string>>();
  const services = new Map<string, Service>();
  let anchor: Map<string, string> | null = null;
  let section = "";
  let service: Service | null = null;
  let list = "";
  for (const line of text.split("\n")) {
    if (/^\s*(#|$)/.test(line)) continue;
    const top = line.match(/^([\w-]+):\s*(?:&([\w-]+))?\s*$/);
    if (top) {
      section = top[1]!;
      anchor = top[2] ? new Map() : null;
      if (top[2] && anchor) anchors.set(top[2], anchor);
      service = null;
      continue;
    }
    const entry = line.match(/^ {2}(\w+): (.*)$/);
    if (anchor && entry) {
      anchor.set(entry[1]!, entry[2]!);
      continue;
    }
    if (section !== "services") continue;
    const name = line.match(/^ {2}([\w-]+):\s*$/);
    if (name) {
      service = { env: new Map(), ports: [] };
      services.set(name[1]!, service);
      continue;
    }
    const key = line.match(/^ {4}(\w+):/);
    if (key) {
      list = key[1]!;
      continue;
    }
    if (!service) continue;
    if (list === "environment") {
      const merge = line.match(/^ {6}<<: \[(.*)\]$/);
      if (merge) {
        for (const ref of merge[1]!.split(",")) {
          for (const [k, val] of anchors.get(ref.trim().replace("*", "")) ?? []) service.env.set(k, val);
        }
        continue;
      }
      const kv = line.match(/^ {6}(\w+): (.*)$/);
      if (kv) service.env.set(kv[1]!, kv[2]!.replace(/^"|"$/g, ""));
    }
    if (list === "ports") {
      const port = line.match(/^ {6}- "(.*)"$/);
      if (port) service.ports.push(port[1]!);
    }
  }
  return services;
}

const services = parseCompose(compose);
const mediaServices = [...services.keys()].filter((name) => name.startsWith("media-"));

/** Variables in DEPLOY.md's table ("Every variable"): each backticked name in a row's first cell. */
const table = (() => {
  const section = deploy.slice(deploy.indexOf("## Every variable"));
  const rows = section.split("\n").filter((l) => l.startsWith("| `"));
  return new Set(
    rows.flatMap((row) => [...row.split("|")[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!)),
  );
})();

const clusterHost = { id: "media-1", port: 1, webRtcPort: 2, publicUrl: "wss://x/media/media-1" };
const links = { databaseUrl: "postgres://x", redisUrl: "redis://x", extra: {} };
const clusterControl = controlEnvFor({
  ...links,
  port: 1,
  origin: "https://x",
  webDir: "/w",
  joinSecret: "j",
  jwtSecret: "w",
  turnSecret: "t",
  turn: { host: "127.0.0.1", port: 3 },
});
const clusterMedia = mediaEnvFor({ ...links, joinSecret: "j", host: clusterHost });

describe("compose, cluster and DEPLOY.md", () => {
  it("compose runs the whole topology: proxy, TURN, control, two media hosts, PostgreSQL, Redis", () => {
    expect([...services.keys()].sort()).toEqual(
      ["caddy", "control", "coturn", "media-1", "media-2", "postgres", "redis"].sort(),
    );
  });

  it("every variable compose or the cluster sets on control and the media hosts is in DEPLOY.md's table", () => {
    const named = new Set<string>([
      ...services.get("control")!.env.keys(),
      ...mediaServices.flatMap((name) => [...services.get(name)!.env.keys()]),
      ...Object.keys(clusterControl),
      ...Object.keys(clusterMedia),
      // What compose reads from infra/.env.
      ...[...compose.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!),
    ]);
    const missing = [...named].filter((name) => !table.has(name));
    expect(missing).toEqual([]);
  });

  it("every variable of the table is used by compose, the cluster or the code that reads settings", () => {
    const sources = [
      "control/src/config.ts",
      "media/src/config.ts",
      "drizzle/src/index.ts",
      "platform/src/factory.ts",
      "server/src/entry/control.ts",
      "control/src/entry/node.ts",
    ]
      .map(read)
      .join("\n");
    const used = (name: string) =>
      compose.includes(name) || name in clusterControl || name in clusterMedia || sources.includes(name);
    expect([...table].filter((name) => !used(name))).toEqual([]);
  });

  it("each compose media host publishes its one media port for UDP and TCP, is routed at /media/<id>, and DEPLOY.md opens it", () => {
    expect(mediaServices).toEqual(["media-1", "media-2"]);
    const firewall = deploy.slice(deploy.indexOf("3. **Firewall**"), deploy.indexOf("4. **Settings**"));
    for (const name of mediaServices) {
      const { env, ports } = services.get(name)!;
      expect(env.get("MEDIA_HOST_ID")).toBe(name);
      const port = env.get("MEDIASOUP_WEBRTC_PORT")!;
      expect(ports).toEqual([`${port}:${port}/udp`, `${port}:${port}/tcp`]);
      expect(env.get("MEDIA_PUBLIC_URL")).toBe(`wss://\${NEXUS_DOMAIN}/media/${name}`);
      expect(caddyfile).toContain(`@${name} path /media/${name} /media/${name}/*`);
      expect(caddyfile).toContain(`reverse_proxy ${name}:${env.get("MEDIA_PORT")}`);
      expect(firewall).toContain(`${port} (${name})`);
      expect(compose.split("\n").slice(0, 10).join("\n")).toContain(`${port} (${name})`);
    }
    expect(caddyfile).toContain(`reverse_proxy control:${services.get("control")!.env.get("PORT")}`);
    // The cluster's hosts are in the same mode and behind the same kind of route.
    expect(clusterMedia.MEDIASOUP_WEBRTC_PORT).toBe("2");
    expect(clusterMedia.MEDIA_PUBLIC_URL).toBe(clusterHost.publicUrl);
  });

  it("coturn's ports agree between turnserver.conf, compose, TURN_URLS and DEPLOY.md", () => {
    const conf = (key: string) => turnConf.match(new RegExp(`^${key}=(\\d+)$`, "m"))?.[1];
    const [listen, tls, min, max] = ["listening-port", "tls-listening-port", "min-port", "max-port"].map(
      conf,
    );
    expect(services.get("coturn")!.ports.sort()).toEqual(
      [
        `${listen}:${listen}/udp`,
        `${listen}:${listen}/tcp`,
        `${tls}:${tls}/tcp`,
        `${min}-${max}:${min}-${max}/udp`,
      ].sort(),
    );
    const urls = services.get("control")!.env.get("TURN_URLS")!;
    expect(urls).toContain(`:${listen}?transport=udp`);
    expect(urls).toContain(`:${listen}?transport=tcp`);
    expect(urls).toContain(`turns:\${NEXUS_DOMAIN}:${tls}`);
    const firewall = deploy.slice(deploy.indexOf("3. **Firewall**"), deploy.indexOf("4. **Settings**"));
    expect(firewall).toContain(`UDP and TCP ${listen} and TCP ${tls} (coturn), UDP ${min}-${max}`);
    expect(services.get("caddy")!.ports).toEqual(["80:80", "443:443"]);
    expect(firewall).toContain("TCP 80 and 443 (Caddy");
    // The cluster hands out coturn's UDP and TCP listeners the same way.
    expect(clusterControl.TURN_URLS).toBe("turn:127.0.0.1:3?transport=udp,turn:127.0.0.1:3?transport=tcp");
  });

  it("the cluster's Caddyfile has the same routes as infra/Caddyfile, and both parse", () => {
    const routes = (text: string) =>
      text
        .slice(text.indexOf("@internal"))
        .split("\n")
        .map((l) => l.trim().replace(/reverse_proxy \S+/, "reverse_proxy <upstream>"))
        .filter((l) => l && !l.startsWith("#"));
    const cluster = clusterCaddyfile({
      httpsPort: 1,
      httpPort: 2,
      storage: "/tmp/x",
      controlPort: 3,
      media: mediaServices.map((id, i) => ({ id, port: 10 + i })),
    });
    expect(routes(cluster)).toEqual(routes(caddyfile));
    const env = { ...process.env, NEXUS_DOMAIN: "meet.example.com", ACME_EMAIL: "ops@example.com" };
    const adapt = spawnSync(
      "caddy",
      ["adapt", "--config", join(ROOT, "infra/Caddyfile"), "--adapter", "caddyfile"],
      {
        env,
        encoding: "utf8",
      },
    );
    expect(adapt.status, adapt.stderr).toBe(0);
    expect(JSON.parse(adapt.stdout).apps.http.servers).toBeTruthy();
  });
});
