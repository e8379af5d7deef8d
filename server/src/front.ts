import { fileURLToPath } from "node:url";
import type { ControlConfig } from "@nexus/control";
import { AppError } from "@nexus/shared/errors";
import { Hono } from "hono";
import * as v from "valibot";
import { devSignInGuard, isLocalClient } from "./dev-guard.js";
import { DevTokenBodySchema, mintDevToken } from "./dev-token.js";
import { staticFiles } from "./static.js";

export const DEFAULT_WEB_DIR = fileURLToPath(new URL("../../web/dist", import.meta.url));

export interface WebFrontOptions {
  /** The control plane's fetch: everything that is not a file of the web client. */
  control: { fetch(request: Request): Response | Promise<Response> };
  config: ControlConfig;
  /** The built web client. */
  webDir: string;
  /** Told to the page by /dev/info (the one-process mode has exactly one media host). */
  mediaWsUrl?: string;
}

/**
 * The web client in front of control: its files, the development sign-in (never in production), and
 * control for everything else. Used by `npm start` and by the standalone control process of a deployment.
 */
export function webFront(options: WebFrontOptions): Hono {
  const { config } = options;
  const production = config.nodeEnv === "production";
  const web = staticFiles(options.webDir);
  const app = new Hono();
  if (!production) {
    // Anyone who reaches this route mints an admin token for any tenant: only this machine may, whatever
    // HOST the server binds, and never through a proxy (see dev-guard.ts).
    app.post("/dev/token", devSignInGuard(), async (c) => {
      const parsed = v.safeParse(DevTokenBodySchema, await c.req.json().catch(() => null));
      if (!parsed.success) {
        const err = new AppError("validation_failed", "tenant_id and sub are required");
        return c.json({ error: { code: err.code, message: err.message } }, 400);
      }
      return c.json(await mintDevToken(config.auth, parsed.output, new Date()));
    });
  }
  // The page asks which sign-in form to show.
  app.get("/dev/info", (c) =>
    c.json({
      dev: !production && isLocalClient(c),
      ...(options.mediaWsUrl ? { media_ws_url: options.mediaWsUrl } : {}),
    }),
  );
  app.all("*", async (c) => {
    const path = new URL(c.req.url).pathname;
    if (!path.startsWith("/api/")) {
      const file = await web(c.req.method, path);
      if (file) return file;
    }
    return options.control.fetch(c.req.raw);
  });
  return app;
}
