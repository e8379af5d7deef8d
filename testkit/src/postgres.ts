import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { spawnManaged, waitFor } from "./child.js";
import { freePort } from "./ports.js";

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/** Debian installs each major version side by side; take the newest one present. */
export function postgresBinDir(): string {
  const override = process.env.NEXUS_PG_BIN;
  if (override) return override;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "postgres")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return join(root, versions[0], "bin");
  throw new Error(
    "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin (apt-get install postgresql), " +
      "or set NEXUS_PG_BIN, or point DATABASE_URL at a running server",
  );
}

interface RunAs {
  /** Wraps a command so it runs as the server's owner. */
  wrap(command: string, args: string[]): [string, string[]];
  uid: number | null;
  gid: number | null;
}

/** PostgreSQL refuses to run as root, so as root the server runs as the Debian `postgres` user. */
function runAs(): RunAs {
  if (process.getuid?.() !== 0) return { wrap: (c, a) => [c, a], uid: null, gid: null };
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  return { wrap: (c, a) => ["runuser", ["-u", "postgres", "--", c, ...a]], uid, gid };
}

async function accepts(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * A throwaway PostgreSQL on a free loopback port with durability switched off (tests never need to
 * survive a crash). stop() kills it and deletes its data directory.
 */
export async function startPostgres(): Promise<RunningServer> {
  const bin = postgresBinDir();
  const owner = runAs();
  const dir = mkdtempSync(join(tmpdir(), "nexus-pg-"));
  const data = join(dir, "data");
  if (owner.uid !== null && owner.gid !== null) chownSync(dir, owner.uid, owner.gid);
  try {
    const [initCmd, initArgs] = owner.wrap(join(bin, "initdb"), [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth=trust",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
      "--no-instructions",
    ]);
    execFileSync(initCmd, initArgs, { stdio: "pipe", cwd: dir });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`initdb failed: ${stderr || String(err)}`);
  }

  // A port picked here can be taken by someone else before postgres binds it; try a few.
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const [cmd, args] = owner.wrap(join(bin, "postgres"), [
      "-D",
      data,
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `port=${port}`,
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=200",
      "-c",
      "shared_buffers=32MB",
    ]);
    const child = spawnManaged(cmd, args, { dirs: [dir] });
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    try {
      await waitFor("postgres", () => accepts(url), {
        timeoutMs: 30_000,
        abort: () => (child.exited() ? `exited early:\n${child.output()}` : null),
      });
    } catch (err) {
      lastError = err;
      // SIGQUIT is PostgreSQL's immediate shutdown: nothing here is worth a checkpoint.
      await child.stop("SIGQUIT");
      if (/already in use|could not bind/i.test(child.output())) continue;
      break;
    }
    return {
      url,
      stop: async () => {
        await child.stop("SIGQUIT");
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
