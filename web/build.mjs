#!/usr/bin/env node
// Bundles the web client: web/dist/index.html + app.js + app.css. Importable (start.ts, tests) and runnable.
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = join(here, "dist");
/** Everything whose change calls for a new bundle. */
export const WEB_SOURCES = [
  join(here, "src"),
  join(here, "build.mjs"),
  join(here, "..", "shared", "src"),
  join(here, "..", "client", "src"),
];

async function newestMtime(path) {
  const info = await stat(path).catch(() => null);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, entry)));
  return newest;
}

/** True when dist is missing or older than any source file. */
export async function webBuildIsStale() {
  const built = Math.min(
    ...(await Promise.all(
      ["index.html", "app.js", "app.css"].map((f) =>
        stat(join(WEB_DIST, f)).then(
          (s) => s.mtimeMs,
          () => 0,
        ),
      ),
    )),
  );
  if (built === 0) return true;
  for (const source of WEB_SOURCES) if ((await newestMtime(source)) > built) return true;
  return false;
}

export async function buildWeb({ minify = true, outdir = WEB_DIST } = {}) {
  await mkdir(outdir, { recursive: true });
  await esbuild.build({
    entryPoints: { app: join(here, "src", "main.ts") },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["chrome110", "firefox115", "safari16"],
    outdir,
    sourcemap: true,
    minify,
    logLevel: "warning",
    // The page is served next to the API; nothing here reads process.env at run time.
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const html = await readFile(join(here, "src", "index.html"), "utf8");
  await writeFile(join(outdir, "index.html"), html);
  const css = await readFile(join(here, "src", "app.css"), "utf8");
  await writeFile(join(outdir, "app.css"), css);
  return outdir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const out = await buildWeb({ minify: !process.argv.includes("--dev") });
  console.log(`web client built in ${Date.now() - started} ms -> ${out}`);
}
