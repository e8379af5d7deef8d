import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { waitFor } from "../src/index.js";

const fixture = fileURLToPath(new URL("./fixtures/hold-redis.ts", import.meta.url));

const reachable = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

it("kills a server and deletes its directory when the process that started it is SIGKILLed", async () => {
  const owner = spawn(process.execPath, ["--import", "tsx", fixture], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  owner.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  try {
    await waitFor("owner reports its server", async () => out.includes("\n"), { timeoutMs: 30_000 });
    const { url, dir } = JSON.parse(out.split("\n")[0] ?? "") as { url: string; dir: string };
    expect(await reachable(url)).toBe(true);
    expect(existsSync(dir)).toBe(true);
    owner.kill("SIGKILL");
    await waitFor("server gone", async () => !(await reachable(url)) && !existsSync(dir), {
      timeoutMs: 15_000,
    });
  } finally {
    owner.kill("SIGKILL");
  }
});
