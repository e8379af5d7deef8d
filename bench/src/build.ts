import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

export const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));
export const REPO_DIR = join(BENCH_DIR, "..");
/** Build output stays inside bench/ so node resolves the external packages from the repo's node_modules. */
export const BUILD_DIR = join(BENCH_DIR, ".build");

export interface BundleOptions {
  /**
   * "third-party": only first-party TypeScript (our workspaces) is bundled; npm packages load from
   * node_modules, so a CPU profile still names the package each sample belongs to.
   * "none": one self-contained file, the way a Lambda zip is deployed.
   */
  external: "third-party" | "none";
  minify?: boolean;
  /** Packages left out even of a self-contained bundle. */
  alsoExternal?: string[];
}

/** Both servers of a comparison go through this one function, so neither gets a different compiler. */
export async function bundle(entry: string, outName: string, options: BundleOptions): Promise<string> {
  const outfile = join(BUILD_DIR, outName);
  mkdirSync(dirname(outfile), { recursive: true });
  const plugins: esbuild.Plugin[] = [];
  if (options.external === "third-party") {
    plugins.push({
      name: "external-npm",
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith("@nexus/") || args.path.startsWith("node:") ? undefined : { external: true },
        );
      },
    });
  }
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minify: options.minify ?? false,
    sourcemap: false,
    logLevel: "warning",
    // pg probes for its optional native binding inside a try; there is none to bundle.
    external: ["pg-native", ...(options.alsoExternal ?? [])],
    // CommonJS packages inlined into an ES module still call require() for node builtins.
    banner: {
      js: "import { createRequire as __nexusCreateRequire } from 'node:module'; const require = __nexusCreateRequire(import.meta.url);",
    },
    plugins,
  });
  return outfile;
}
