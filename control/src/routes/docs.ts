import { Hono } from "hono";
import type { AppEnv } from "../deps.js";
import { renderDocsPage } from "../docs-page.js";
import { buildOpenApi } from "../openapi.js";

export const docsRoutes = () =>
  new Hono<AppEnv>()
    .get("/openapi.json", (c) => c.json(buildOpenApi(), 200))
    .get("/docs", (c) => c.html(renderDocsPage(buildOpenApi())));
