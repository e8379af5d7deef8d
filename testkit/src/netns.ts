import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";

export interface NetworkNamespace {
  name: string;
  /** This side of the veth pair (the root namespace): what processes in the namespace dial. */
  hostAddress: string;
  /** The namespace's own address. */
  nsAddress: string;
  /** Prefix a command with this to run it inside the namespace. */
  exec: string[];
  remove(): void;
}

const live = new Set<string>();
let hooked = false;

const run = (args: string[]) =>
  execFileSync(args[0]!, args.slice(1), { stdio: ["ignore", "ignore", "pipe"] });

/**
 * A network namespace joined to this one by a veth pair on a random 10.213.x.0/30, with `rules` as an nftables
 * output chain inside it (e.g. `meta l4proto udp drop`): a client started in it sees a network with those
 * paths blocked. Needs root (tests here run as root); removed by remove() or at process exit.
 */
export function createNetns(rules: string[] = []): NetworkNamespace {
  if (process.getuid?.() !== 0) throw new Error("network namespaces need root");
  const id = randomBytes(3).toString("hex");
  const name = `nx-${id}`;
  const subnet = 1 + (randomBytes(1)[0]! % 250);
  const hostAddress = `10.213.${subnet}.1`;
  const nsAddress = `10.213.${subnet}.2`;
  const [a, b] = [`vx${id}a`, `vx${id}b`];
  const exec = ["ip", "netns", "exec", name];
  if (!hooked) {
    hooked = true;
    process.once("exit", () => {
      for (const ns of live) spawnSync("ip", ["netns", "del", ns]);
    });
  }
  run(["ip", "netns", "add", name]);
  live.add(name);
  const remove = () => {
    if (!live.delete(name)) return;
    spawnSync("ip", ["netns", "del", name]);
    spawnSync("ip", ["link", "del", a]);
  };
  try {
    run(["ip", "link", "add", a, "type", "veth", "peer", "name", b]);
    run(["ip", "link", "set", b, "netns", name]);
    run(["ip", "addr", "add", `${hostAddress}/30`, "dev", a]);
    run(["ip", "link", "set", a, "up"]);
    run([...exec, "ip", "addr", "add", `${nsAddress}/30`, "dev", b]);
    run([...exec, "ip", "link", "set", b, "up"]);
    run([...exec, "ip", "link", "set", "lo", "up"]);
    if (rules.length > 0) {
      const ruleset = [
        "table inet nexus_block {",
        "  chain out {",
        "    type filter hook output priority 0; policy accept;",
        ...rules.map((r) => `    ${r}`),
        "  }",
        "}",
      ].join("\n");
      execFileSync(exec[0]!, [...exec.slice(1), "nft", "-f", "-"], { input: ruleset });
    }
  } catch (error) {
    remove();
    throw error;
  }
  return { name, hostAddress, nsAddress, exec, remove };
}
