import {
  type Db,
  type WebhookAttempt,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
} from "@nexus/drizzle";
import type { Logger } from "@nexus/platform";
import { WEBHOOK_HEADERS } from "@nexus/shared/rest/webhooks";
import { eq, sql } from "drizzle-orm";
import type { WebhookDispatchConfig } from "../config.js";
import { signWebhook } from "./webhook-signature.js";
import { postWebhook } from "./webhook-target.js";

/** Attempts kept on a delivery row for the log; older ones are dropped. */
const ATTEMPT_LOG_SIZE = 10;
const ERROR_TEXT_MAX = 300;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

export interface DispatcherOptions {
  db: Db;
  logger: Logger;
  config: Omit<WebhookDispatchConfig, "dispatch">;
  /** The signature timestamp's clock (receivers compare it with theirs, so: the wall clock). */
  now?: () => Date;
}

/**
 * Drains the webhook outbox. The database decides what is due (its clock, its rows), so any number of
 * dispatchers, in any number of processes, share the work: a due row is leased in one statement, and only
 * the oldest pending delivery of an (endpoint, meeting) pair is ever due, which keeps each meeting's
 * events in order at the receiver. Delivery runs beside the meetings, never in a request's path; a
 * receiver that is down only grows the outbox.
 */
export class WebhookDispatcher {
  private readonly db: Db;
  private readonly log: Logger;
  private readonly config: DispatcherOptions["config"];
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private pruner: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private readonly inflight = new Map<string, { done: Promise<void>; abort: AbortController }>();

  constructor(options: DispatcherOptions) {
    this.db = options.db;
    this.log = options.logger;
    this.config = options.config;
    this.now = options.now ?? (() => new Date());
  }

  start(): this {
    this.schedule(0);
    this.pruner = setInterval(() => {
      this.prune().catch((err: unknown) => this.log.error({ err }, "webhook outbox prune failed"));
    }, PRUNE_EVERY_MS);
    this.pruner.unref?.();
    return this;
  }

  /**
   * Deletes settled deliveries older than the retention, then events no delivery refers to any more;
   * pending rows stay whatever their age. Resolves with the number of deliveries deleted.
   */
  async prune(): Promise<number> {
    const days = this.config.retentionDays;
    const gone = await this.db
      .delete(webhookDeliveries)
      .where(
        sql`${webhookDeliveries.status} <> 'pending' and ${webhookDeliveries.createdAt} < now() - ${days}::int * interval '1 day'`,
      )
      .returning({ id: webhookDeliveries.id });
    await this.db.delete(webhookEvents).where(
      sql`${webhookEvents.createdAt} < now() - ${days}::int * interval '1 day' and not exists (
          select 1 from ${webhookDeliveries} d where d.event_id = ${webhookEvents.id})`,
    );
    return gone.length;
  }

  /** Look for due rows now instead of at the next poll. */
  nudge(): void {
    this.schedule(0);
  }

  /**
   * Delivers everything due until nothing is (a scheduled function invocation calls this instead of
   * start). Resolves with the number of attempts made.
   */
  async drain(): Promise<number> {
    await this.prune();
    let attempts = 0;
    for (;;) {
      const ids = await this.claim(this.config.concurrency);
      if (ids.length === 0) return attempts;
      attempts += ids.length;
      await Promise.all(this.launch(ids));
    }
  }

  /**
   * Stops polling and aborts attempts in flight; their rows are handed back (lease cleared, the attempt
   * not counted) so the next dispatcher sends them at once. Idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.pruner);
    await this.ticking;
    const open = [...this.inflight.entries()];
    for (const [, { abort }] of open) abort.abort(new Error("dispatcher closing"));
    await Promise.all(open.map(([, { done }]) => done));
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    this.again = false;
    this.ticking = (async () => {
      const free = this.config.concurrency - this.inflight.size;
      if (free <= 0) return;
      try {
        const ids = await this.claim(free);
        this.launch(ids);
        if (ids.length === free) this.again = true;
      } catch (err) {
        if (!this.closed) this.log.error({ err }, "webhook outbox claim failed");
      }
    })();
    await this.ticking;
    this.ticking = undefined;
    this.schedule(this.again ? 0 : this.config.pollMs);
  }

  /** Leases up to `n` due head-of-line rows and counts the attempt; returns their ids in event order. */
  private async claim(n: number): Promise<string[]> {
    const leaseMs = this.config.timeoutMs * 2 + 5000;
    const result = await this.db.execute<{ id: string }>(sql`
      with heads as (
        select d.id, d.event_seq from ${webhookDeliveries} d
        join ${webhookEndpoints} e on e.id = d.endpoint_id and e.enabled
        where d.status = 'pending' and d.next_attempt_at <= now()
          and (d.lease_until is null or d.lease_until <= now())
          and not exists (
            select 1 from ${webhookDeliveries} o
            where o.endpoint_id = d.endpoint_id and o.meeting_id is not distinct from d.meeting_id
              and o.status = 'pending' and o.event_seq < d.event_seq)
        order by d.event_seq
        limit ${n}::int
        for update of d skip locked
      )
      update ${webhookDeliveries} w
        set lease_until = now() + ${leaseMs}::int * interval '1 millisecond', attempts = w.attempts + 1
        from heads where w.id = heads.id
        returning w.id, w.event_seq`);
    const rows = (result as unknown as { rows: { id: string; event_seq: string | number }[] }).rows;
    return rows.sort((a, b) => Number(a.event_seq) - Number(b.event_seq)).map((r) => r.id);
  }

  private launch(ids: string[]): Promise<void>[] {
    return ids.map((id) => {
      const abort = new AbortController();
      const done = this.attempt(id, abort.signal)
        .catch((err: unknown) => {
          if (!this.closed) this.log.error({ err, delivery_id: id }, "webhook attempt failed to record");
        })
        .finally(() => {
          this.inflight.delete(id);
          // The next event of this meeting may be due now that this one is settled.
          this.schedule(0);
        });
      this.inflight.set(id, { done, abort });
      return done;
    });
  }

  private async attempt(id: string, closing: AbortSignal): Promise<void> {
    const [row] = await this.db
      .select({
        attempts: webhookDeliveries.attempts,
        attemptLog: webhookDeliveries.attemptLog,
        url: webhookEndpoints.url,
        secret: webhookEndpoints.secret,
        eventId: webhookEvents.id,
        type: webhookEvents.type,
        tenantId: webhookEvents.tenantId,
        data: webhookEvents.data,
        createdAt: webhookEvents.createdAt,
      })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
      .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
      .where(eq(webhookDeliveries.id, id))
      .limit(1);
    if (!row) return; // endpoint deleted meanwhile (its deliveries went with it)

    const body = JSON.stringify({
      id: row.eventId,
      type: row.type,
      tenant_id: row.tenantId,
      created_at: row.createdAt.toISOString(),
      data: row.data,
    });
    const timestamp = Math.floor(this.now().getTime() / 1000);
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    // A timer and a listener this attempt owns (AbortSignal.any over AbortSignal.timeout can be collected
    // before it fires on Node 20, leaving the attempt hanging until its lease runs out).
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort(new Error("timeout"));
    }, this.config.timeoutMs);
    const onClosing = () => abort.abort(new Error("dispatcher closing"));
    closing.addEventListener("abort", onClosing, { once: true });
    try {
      statusCode = await postWebhook(row.url, {
        headers: {
          "content-type": "application/json",
          "user-agent": "NEXUS-Meet-Webhooks/1",
          [WEBHOOK_HEADERS.timestamp]: String(timestamp),
          [WEBHOOK_HEADERS.signature]: signWebhook(row.secret, timestamp, body),
          [WEBHOOK_HEADERS.event]: row.type,
          [WEBHOOK_HEADERS.delivery]: id,
        },
        body,
        signal: abort.signal,
        allowPrivate: this.config.allowPrivate,
      });
    } catch (err) {
      if (closing.aborted) {
        // Not the receiver's fault: hand the row back untouched for the next dispatcher.
        await this.db
          .update(webhookDeliveries)
          .set({ leaseUntil: null, attempts: sql`greatest(${webhookDeliveries.attempts} - 1, 0)` })
          .where(eq(webhookDeliveries.id, id));
        return;
      }
      error = timedOut ? `timed out after ${this.config.timeoutMs} ms` : describe(err);
    } finally {
      clearTimeout(timer);
      closing.removeEventListener("abort", onClosing);
    }

    const entry: WebhookAttempt = {
      at: new Date().toISOString(),
      status_code: statusCode,
      error,
      duration_ms: Math.round(performance.now() - started),
    };
    const attemptLog = [...(row.attemptLog ?? []), entry].slice(-ATTEMPT_LOG_SIZE);
    const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
    if (ok) {
      await this.db
        .update(webhookDeliveries)
        .set({
          status: "succeeded",
          deliveredAt: sql`now()`,
          leaseUntil: null,
          lastStatusCode: statusCode,
          lastError: null,
          attemptLog,
        })
        .where(eq(webhookDeliveries.id, id));
      return;
    }
    const delayMs = Math.min(
      this.config.retryBaseMs * 2 ** Math.max(row.attempts - 1, 0),
      this.config.retryMaxMs,
    );
    const failure = error ?? `HTTP ${statusCode}`;
    const [settled] = await this.db
      .update(webhookDeliveries)
      .set({
        leaseUntil: null,
        lastStatusCode: statusCode,
        lastError: failure,
        attemptLog,
        nextAttemptAt: sql`now() + ${delayMs}::int * interval '1 millisecond'`,
        status: sql`case when now() - ${webhookDeliveries.createdAt} >= ${this.config.retryForSeconds}::int * interval '1 second'
          then 'failed' else 'pending' end`,
      })
      .where(eq(webhookDeliveries.id, id))
      .returning({ status: webhookDeliveries.status });
    this.log.info(
      {
        delivery_id: id,
        event: row.type,
        status_code: statusCode,
        error: failure,
        gave_up: settled?.status === "failed",
      },
      "webhook delivery failed",
    );
  }
}

function describe(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
  const text = cause ?? (err instanceof Error ? err.message : String(err));
  return text.slice(0, ERROR_TEXT_MAX);
}

export const createWebhookDispatcher = (options: DispatcherOptions) => new WebhookDispatcher(options);
