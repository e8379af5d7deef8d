import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/**
 * Serves the built web client from `dir`. Returns null for paths that are not files of the bundle so the
 * caller can hand them to the control plane; the single page answers every unknown GET without a dot so
 * that reloading a deep link (e.g. /meetings/<id>) still opens the app.
 */
export function staticFiles(dir: string) {
  const root = resolve(dir);
  return async (method: string, pathname: string): Promise<Response | null> => {
    if (method !== "GET" && method !== "HEAD") return null;
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return null;
    }
    if (rel === "/" || rel === "") rel = "/index.html";
    const file = normalize(join(root, rel));
    // A path that climbs out of the bundle directory is never served, whatever its encoding.
    if (file !== root && !file.startsWith(root + sep)) return null;
    const found = await stat(file).catch(() => null);
    if (!found?.isFile()) return null;
    const body = method === "HEAD" ? null : await readFile(file);
    return new Response(body, {
      headers: {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        // The bundle is rebuilt in place under the same names: always revalidate.
        "cache-control": "no-cache",
      },
    });
  };
}
