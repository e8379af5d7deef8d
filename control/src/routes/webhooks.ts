import { webhookDeliveries, webhookEndpoints, webhookEvents } from "@nexus/drizzle";
import { AppError } from "@nexus/shared/errors";
import {
  CreateWebhookBodySchema,
  ListWebhookDeliveriesQuerySchema,
  UpdateWebhookBodySchema,
} from "@nexus/shared/rest/webhooks";
import { and, count, desc, eq, getTableColumns, type SQL, sql } from "drizzle-orm";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../deps.js";
import { valid } from "../http.js";
import { DEFAULT_PAGE_SIZE, decodeCursor, keysetOrder, pageOf, pastCursor } from "../services/cursor.js";
import { isPrivateUrl } from "../services/webhook-target.js";
import {
  assertCanManageWebhooks,
  deliveryView,
  idParam,
  MAX_WEBHOOKS_PER_TENANT,
  newWebhookSecret,
  type WebhookRow,
  webhookView,
  webhookWithSecret,
} from "../services/webhooks.js";

/** The caller's endpoint `:id`; another tenant's endpoint is indistinguishable from none. */
async function loadWebhook(c: Context<AppEnv>): Promise<WebhookRow> {
  const user = c.get("user");
  assertCanManageWebhooks(user.role);
  const id = idParam(c.req.param("id"), "webhook");
  const [row] = await c
    .get("deps")
    .db.select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.tenantId, user.tenant_id), eq(webhookEndpoints.id, id)))
    .limit(1);
  if (!row) throw new AppError("not_found", "webhook not found");
  return row;
}

/** Refused up front when the URL names a private address itself; names are checked again as they resolve. */
function assertReachable(c: Context<AppEnv>, url: string | undefined): void {
  if (url === undefined || c.get("deps").config.webhooks.allowPrivate || !isPrivateUrl(url)) return;
  throw new AppError("validation_failed", "invalid request json", [
    { path: "url", message: "must not point at a loopback, private or link-local address" },
  ]);
}

const deliveryColumns = { ...getTableColumns(webhookDeliveries), eventType: webhookEvents.type };

export const webhookRoutes = () =>
  new Hono<AppEnv>()
    .get("/", async (c) => {
      const user = c.get("user");
      assertCanManageWebhooks(user.role);
      const rows = await c
        .get("deps")
        .db.select()
        .from(webhookEndpoints)
        .where(eq(webhookEndpoints.tenantId, user.tenant_id))
        .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id));
      return c.json({ data: rows.map(webhookView) }, 200);
    })
    .post("/", valid("json", CreateWebhookBodySchema), async (c) => {
      const { db, now, randomId } = c.get("deps");
      const user = c.get("user");
      assertCanManageWebhooks(user.role);
      const body = c.req.valid("json");
      assertReachable(c, body.url);
      const [existing] = await db
        .select({ n: count() })
        .from(webhookEndpoints)
        .where(eq(webhookEndpoints.tenantId, user.tenant_id));
      if ((existing?.n ?? 0) >= MAX_WEBHOOKS_PER_TENANT)
        throw new AppError("conflict", `a tenant has at most ${MAX_WEBHOOKS_PER_TENANT} webhooks`);
      const at = now();
      const [row] = await db
        .insert(webhookEndpoints)
        .values({
          id: randomId(),
          tenantId: user.tenant_id,
          url: body.url,
          description: body.description ?? null,
          events: body.events ? [...new Set(body.events)] : null,
          secret: newWebhookSecret(),
          enabled: body.enabled,
          createdBy: user.sub,
          createdAt: at,
          updatedAt: at,
        })
        .returning();
      c.get("log").info({ webhook_id: row!.id }, "webhook created");
      return c.json(webhookWithSecret(row!), 201);
    })
    .get("/:id", async (c) => c.json(webhookView(await loadWebhook(c)), 200))
    .put("/:id", valid("json", UpdateWebhookBodySchema), async (c) => {
      const { db, now } = c.get("deps");
      const current = await loadWebhook(c);
      const body = c.req.valid("json");
      assertReachable(c, body.url);
      const set: Partial<WebhookRow> = { updatedAt: now() };
      if (body.url !== undefined) set.url = body.url;
      if (body.description !== undefined) set.description = body.description;
      if (body.events !== undefined) set.events = body.events ? [...new Set(body.events)] : null;
      if (body.enabled !== undefined) set.enabled = body.enabled;
      if (body.rotate_secret) set.secret = newWebhookSecret();
      const [row] = await db
        .update(webhookEndpoints)
        .set(set)
        .where(and(eq(webhookEndpoints.tenantId, current.tenantId), eq(webhookEndpoints.id, current.id)))
        .returning();
      if (!row) throw new AppError("not_found", "webhook not found");
      return c.json(body.rotate_secret ? webhookWithSecret(row) : webhookView(row), 200);
    })
    .delete("/:id", async (c) => {
      const current = await loadWebhook(c);
      await c
        .get("deps")
        .db.delete(webhookEndpoints)
        .where(and(eq(webhookEndpoints.tenantId, current.tenantId), eq(webhookEndpoints.id, current.id)));
      c.get("log").info({ webhook_id: current.id }, "webhook deleted");
      return c.body(null, 204);
    })
    .get("/:id/deliveries", valid("query", ListWebhookDeliveriesQuerySchema), async (c) => {
      const hook = await loadWebhook(c);
      const q = c.req.valid("query");
      const limit = q.limit ?? DEFAULT_PAGE_SIZE;
      const where: SQL[] = [
        eq(webhookDeliveries.tenantId, hook.tenantId),
        eq(webhookDeliveries.endpointId, hook.id),
      ];
      if (q.status) where.push(eq(webhookDeliveries.status, q.status));
      if (q.cursor)
        where.push(
          pastCursor(webhookDeliveries.createdAt, webhookDeliveries.id, decodeCursor(q.cursor), "desc"),
        );
      const rows = await c
        .get("deps")
        .db.select(deliveryColumns)
        .from(webhookDeliveries)
        .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
        .where(and(...where))
        .orderBy(...keysetOrder(webhookDeliveries.createdAt, webhookDeliveries.id, "desc"))
        .limit(limit + 1);
      const { page, next_cursor } = pageOf(rows, limit, (r) => r.createdAt);
      return c.json({ data: page.map(deliveryView), next_cursor }, 200);
    })
    .post("/:id/deliveries/:deliveryId/redeliver", async (c) => {
      const { db, randomId } = c.get("deps");
      const hook = await loadWebhook(c);
      const deliveryId = idParam(c.req.param("deliveryId"), "delivery");
      const [original] = await db
        .select()
        .from(webhookDeliveries)
        .where(
          and(
            eq(webhookDeliveries.tenantId, hook.tenantId),
            eq(webhookDeliveries.endpointId, hook.id),
            eq(webhookDeliveries.id, deliveryId),
          ),
        )
        .limit(1);
      if (!original) throw new AppError("not_found", "delivery not found");
      // A new row, so the log keeps what happened to the first one; same event id, so receivers can dedupe.
      const [row] = await db
        .insert(webhookDeliveries)
        .values({
          id: randomId(),
          tenantId: hook.tenantId,
          endpointId: hook.id,
          eventId: original.eventId,
          eventSeq: original.eventSeq,
          meetingId: original.meetingId,
          redeliveryOf: original.id,
          nextAttemptAt: sql`now()`,
          createdAt: sql`now()`,
        })
        .returning();
      const [event] = await db
        .select({ type: webhookEvents.type })
        .from(webhookEvents)
        .where(eq(webhookEvents.id, original.eventId));
      return c.json(deliveryView({ ...row!, eventType: event?.type ?? "" }), 202);
    });
