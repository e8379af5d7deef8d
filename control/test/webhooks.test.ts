import { createHmac } from "node:crypto";
import {
  type Database,
  participants,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
} from "@nexus/drizzle";
import { silentLogger } from "@nexus/platform";
import { waitFor } from "@nexus/testkit";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookDispatcher } from "../src/services/webhook-dispatcher.js";
import { verifyWebhook } from "../src/services/webhook-signature.js";
import { isPrivateAddress, publicOnlyLookup } from "../src/services/webhook-target.js";
import {
  appPerSuite,
  BACKENDS,
  call,
  freshTenant,
  makeApp,
  type TestApp,
  testConfig,
  userToken,
} from "./harness.js";
import { Receiver } from "./webhook-receiver.js";

const DISPATCH = {
  pollMs: 20,
  timeoutMs: 1500,
  concurrency: 8,
  retryBaseMs: 20,
  retryMaxMs: 200,
  retryForSeconds: 600,
  allowPrivate: true,
  retentionDays: 30,
};

/** Independent of the server's code: what an integrator writes from the documentation. */
function verifies(secret: string, r: { headers: Record<string, unknown>; body: string }): boolean {
  const ts = String(r.headers["nexus-timestamp"]);
  const expected = `v1=${createHmac("sha256", secret).update(`${ts}.${r.body}`).digest("hex")}`;
  return r.headers["nexus-signature"] === expected && /^\d+$/.test(ts);
}

describe.each(BACKENDS)("webhooks on $name", (backend) => {
  let t: TestApp;
  let database: Database;
  let dispatcher: WebhookDispatcher;
  const receiver = new Receiver();
  appPerSuite(backend, (app, db) => {
    t = app;
    database = db;
    dispatcher = new WebhookDispatcher({ db: db.db, logger: silentLogger(), config: DISPATCH }).start();
  });
  beforeAll(() => receiver.start());
  afterAll(async () => {
    await dispatcher?.close();
    await receiver.close();
  });

  const as = (tenant: string, role = "admin", sub = "root") =>
    userToken({ tenant, sub, role, clock: t.clock });
  const hook = async (token: string, url: string, extra: Record<string, unknown> = {}) => {
    const res = await call(t, "POST", "/api/webhooks", { token, body: { url, ...extra } });
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string };
  };
  const meeting = async (token: string, title = "Standup") => {
    const res = await call(t, "POST", "/api/meetings", { token, body: { title } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const deliveries = async (token: string, hookId: string, query = "") =>
    (await call(t, "GET", `/api/webhooks/${hookId}/deliveries${query}`, { token })).body.data as {
      id: string;
      status: string;
      attempts: number;
      event_type: string;
      event_id: string;
      last_status_code: number | null;
      last_error: string | null;
      redelivery_of: string | null;
      attempt_log: { status_code: number | null; error: string | null }[];
    }[];
  const eventsAt = (url: string, meetingId?: string) =>
    receiver
      .at(url)
      .filter((r) => !meetingId || (r.event.data.meeting?.id ?? r.event.data.meeting_id) === meetingId);

  describe("endpoints", () => {
    it("creates an endpoint and shows its secret only in the create answer", async () => {
      const token = await as(freshTenant());
      const created = await hook(token, receiver.path("crud"), {
        description: "calendar sync",
        events: ["meeting.created", "meeting.ended"],
      });
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
      const got = await call(t, "GET", `/api/webhooks/${created.id}`, { token });
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({
        description: "calendar sync",
        events: ["meeting.created", "meeting.ended"],
        enabled: true,
        secret_hint: created.secret.slice(-4),
      });
      expect(got.body.secret).toBeUndefined();
      const list = await call(t, "GET", "/api/webhooks", { token });
      expect(list.body.data.map((w: { id: string }) => w.id)).toEqual([created.id]);
      expect(JSON.stringify(list.body)).not.toContain(created.secret);
    });

    it("updates filters, disables, rotates the secret and deletes", async () => {
      const token = await as(freshTenant());
      const created = await hook(token, receiver.path("upd"));
      const upd = await call(t, "PUT", `/api/webhooks/${created.id}`, {
        token,
        body: { events: ["participant.joined"], enabled: false },
      });
      expect(upd.status).toBe(200);
      expect(upd.body).toMatchObject({ events: ["participant.joined"], enabled: false });
      expect(upd.body.secret).toBeUndefined();
      const rotated = await call(t, "PUT", `/api/webhooks/${created.id}`, {
        token,
        body: { rotate_secret: true, events: null },
      });
      expect(rotated.body.events).toBeNull();
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(created.secret);
      expect((await call(t, "DELETE", `/api/webhooks/${created.id}`, { token })).status).toBe(204);
      expect((await call(t, "GET", `/api/webhooks/${created.id}`, { token })).status).toBe(404);
    });

    it("refuses bad input with a typed error and creates nothing", async () => {
      const token = await as(freshTenant());
      for (const body of [
        { url: "ftp://example.com/x" },
        { url: "not a url" },
        { url: "http://example.com", events: ["meeting.exploded"] },
        { url: "http://example.com", events: [] },
        { url: "http://example.com", secret: "mine" },
      ]) {
        const res = await call(t, "POST", "/api/webhooks", { token, body });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe("validation_failed");
      }
      expect((await call(t, "GET", "/api/webhooks", { token })).body.data).toEqual([]);
    });

    it("lets only tenant admins manage endpoints", async () => {
      const tenant = freshTenant();
      const created = await hook(await as(tenant), receiver.path("roles"));
      for (const role of ["host", "member"]) {
        const token = await as(tenant, role, "bob");
        expect((await call(t, "GET", "/api/webhooks", { token })).status).toBe(403);
        expect((await call(t, "GET", `/api/webhooks/${created.id}`, { token })).status).toBe(403);
        const res = await call(t, "POST", "/api/webhooks", { token, body: { url: "http://example.com" } });
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe("forbidden");
      }
    });

    it("keeps tenants apart: another tenant can neither see nor change an endpoint, nor hear its events", async () => {
      const a = await as(freshTenant());
      const b = await as(freshTenant());
      const urlA = receiver.path("tenant-a");
      const created = await hook(a, urlA);
      expect((await call(t, "GET", "/api/webhooks", { token: b })).body.data).toEqual([]);
      for (const [method, path, body] of [
        ["GET", `/api/webhooks/${created.id}`, undefined],
        ["PUT", `/api/webhooks/${created.id}`, { url: "http://evil.example" }],
        ["DELETE", `/api/webhooks/${created.id}`, undefined],
        ["GET", `/api/webhooks/${created.id}/deliveries`, undefined],
      ] as const) {
        const res = await call(t, method, path, { token: b, body });
        expect(res.status).toBe(404);
        expect(res.body.error.code).toBe("not_found");
      }
      const theirs = await meeting(b, "Other tenant");
      const ours = await meeting(a, "Ours");
      await waitFor("tenant A's event", async () => eventsAt(urlA, ours).length === 1, { timeoutMs: 10_000 });
      expect(eventsAt(urlA, theirs)).toEqual([]);
      expect((await call(t, "GET", `/api/webhooks/${created.id}`, { token: a })).body.url).toBe(urlA);
      const [d] = await deliveries(a, created.id);
      const redo = await call(t, "POST", `/api/webhooks/${created.id}/deliveries/${d!.id}/redeliver`, {
        token: b,
      });
      expect(redo.status).toBe(404);
    });
  });

  describe("delivery", () => {
    it("signs every delivery and keeps a meeting's events in order", async () => {
      const token = await as(freshTenant());
      const url = receiver.path("ordered");
      const { id: hookId, secret } = await hook(token, url);
      const id = await meeting(token);
      for (const title of ["Standup 2", "Standup 3"]) {
        expect((await call(t, "PUT", `/api/meetings/${id}`, { token, body: { title } })).status).toBe(200);
      }
      expect((await call(t, "POST", `/api/meetings/${id}/start`, { token })).status).toBe(200);
      expect((await call(t, "POST", `/api/meetings/${id}/end`, { token })).status).toBe(200);
      expect((await call(t, "DELETE", `/api/meetings/${id}`, { token })).status).toBe(204);
      await waitFor("six events", async () => eventsAt(url, id).length >= 6, { timeoutMs: 15_000 });
      const got = eventsAt(url, id);
      expect(got.map((r) => r.event.type)).toEqual([
        "meeting.created",
        "meeting.updated",
        "meeting.updated",
        "meeting.started",
        "meeting.ended",
        "meeting.deleted",
      ]);
      expect(got[1]!.event.data).toMatchObject({ changes: ["title"], meeting: { title: "Standup 2" } });
      expect(got[4]!.event.data.meeting).toMatchObject({ status: "ended" });
      expect(got[0]!.event.data.meeting.password_hash).toBeUndefined();
      for (const r of got) {
        expect(verifies(secret, r)).toBe(true);
        expect(verifies(`${secret}x`, r)).toBe(false);
        expect(r.headers["nexus-event"]).toBe(r.event.type);
        expect(r.event.tenant_id).toBeTypeOf("string");
      }
      const sent = {
        signature: got[0]!.headers["nexus-signature"] as string,
        timestamp: got[0]!.headers["nexus-timestamp"] as string,
      };
      const at = Number(sent.timestamp);
      expect(verifyWebhook(secret, sent, got[0]!.body, at + 10)).toBe(true);
      // Replayed an hour later: refused by the receiver-side check.
      expect(verifyWebhook(secret, sent, got[0]!.body, at + 3600)).toBe(false);
      // A body changed in transit no longer verifies.
      expect(verifies(secret, { ...got[0]!, body: got[0]!.body.replace("Standup", "Standdown") })).toBe(
        false,
      );
      const log = await deliveries(token, hookId);
      expect(log).toHaveLength(6);
      expect(log.every((d) => d.status === "succeeded" && d.last_status_code === 200)).toBe(true);
    });

    it("retries after 500s with the same event, holding the meeting's next event back until then", async () => {
      const token = await as(freshTenant());
      const url = receiver.path("flaky", (n) => (n < 2 ? 500 : 200));
      const { id: hookId } = await hook(token, url);
      const id = await meeting(token);
      await call(t, "PUT", `/api/meetings/${id}`, { token, body: { lobby_enabled: true } });
      await waitFor("both delivered", async () => eventsAt(url, id).length >= 4, { timeoutMs: 15_000 });
      const got = eventsAt(url, id);
      expect(got.map((r) => r.event.type)).toEqual([
        "meeting.created",
        "meeting.created",
        "meeting.created",
        "meeting.updated",
      ]);
      expect(new Set(got.slice(0, 3).map((r) => r.body)).size).toBe(1);
      const created = (await deliveries(token, hookId)).find((d) => d.event_type === "meeting.created")!;
      expect(created).toMatchObject({ status: "succeeded", attempts: 3, last_status_code: 200 });
      expect(created.attempt_log.map((a) => a.status_code)).toEqual([500, 500, 200]);
    });

    it("gives a hanging receiver up after the timeout and tries again", async () => {
      const token = await as(freshTenant());
      const url = receiver.path("slow", (n) => (n === 0 ? "hang" : 204));
      const { id: hookId } = await hook(token, url, { events: ["meeting.created"] });
      await meeting(token);
      await waitFor(
        "delivered after a timeout",
        async () => (await deliveries(token, hookId))[0]?.status === "succeeded",
        { timeoutMs: 15_000 },
      );
      const [d] = await deliveries(token, hookId);
      expect(d!.attempt_log[0], JSON.stringify(d!.attempt_log)).toMatchObject({
        status_code: null,
        error: "timed out after 1500 ms",
      });
      expect(d!.last_status_code).toBe(204);
    });

    it("stops retrying once the retry window is over, then delivers the meeting's next event", async () => {
      const token = await as(freshTenant());
      const url = receiver.path("dead", () => 503);
      const { id: hookId } = await hook(token, url);
      const id = await meeting(token);
      await waitFor(
        "a failed attempt",
        async () => ((await deliveries(token, hookId))[0]?.attempts ?? 0) >= 1,
        {
          timeoutMs: 10_000,
        },
      );
      // Age the row past the window instead of waiting for it.
      await database.db
        .update(webhookDeliveries)
        .set({ createdAt: sql`now() - interval '1 day'` })
        .where(eq(webhookDeliveries.endpointId, hookId));
      await waitFor("given up", async () => (await deliveries(token, hookId))[0]?.status === "failed", {
        timeoutMs: 10_000,
      });
      receiver.behave(url, () => 200);
      await call(t, "PUT", `/api/meetings/${id}`, { token, body: { title: "Later" } });
      await waitFor(
        "next event delivered",
        async () => eventsAt(url, id).some((r) => r.event.type === "meeting.updated"),
        { timeoutMs: 10_000 },
      );
      const failed = (await deliveries(token, hookId, "?status=failed"))[0]!;
      expect(failed.event_type).toBe("meeting.created");
      expect(failed.last_status_code).toBe(503);
    });

    it("redelivers on request as a new delivery of the same event", async () => {
      const token = await as(freshTenant());
      const url = receiver.path("redo");
      const { id: hookId, secret } = await hook(token, url, { events: ["meeting.created"] });
      await meeting(token);
      await waitFor("first", async () => receiver.at(url).length === 1, { timeoutMs: 10_000 });
      const [first] = await deliveries(token, hookId);
      const redo = await call(t, "POST", `/api/webhooks/${hookId}/deliveries/${first!.id}/redeliver`, {
        token,
      });
      expect(redo.status).toBe(202);
      expect(redo.body).toMatchObject({
        status: "pending",
        redelivery_of: first!.id,
        event_id: first!.event_id,
      });
      await waitFor("again", async () => receiver.at(url).length === 2, { timeoutMs: 10_000 });
      const [a, b] = receiver.at(url);
      expect(b!.event.id).toBe(a!.event.id);
      expect(b!.headers["nexus-delivery"]).toBe(redo.body.id);
      expect(verifies(secret, b!)).toBe(true);
      const missing = await call(
        t,
        "POST",
        `/api/webhooks/${hookId}/deliveries/${crypto.randomUUID()}/redeliver`,
        { token },
      );
      expect(missing.status).toBe(404);
    });

    it("announces participants from their rows, whichever side writes them", async () => {
      const tenant = freshTenant();
      const token = await as(tenant);
      const url = receiver.path("people", () => 200);
      await hook(token, url, { events: ["participant.joined", "participant.left"] });
      const id = await meeting(token);
      const pid = crypto.randomUUID();
      // What a media host writes: a lobby row, admitted (joined), then gone.
      await database.db.insert(participants).values({
        id: pid,
        tenantId: tenant,
        meetingId: id,
        userId: "guest-1",
        displayName: "Grace",
        status: "lobby",
      });
      await database.db.update(participants).set({ status: "joined" }).where(eq(participants.id, pid));
      await database.db.update(participants).set({ isMuted: true }).where(eq(participants.id, pid));
      await database.db.update(participants).set({ status: "left" }).where(eq(participants.id, pid));
      await waitFor("joined and left", async () => receiver.at(url).length >= 2, { timeoutMs: 10_000 });
      expect(receiver.at(url).map((r) => [r.event.type, r.event.data.participant.display_name])).toEqual([
        ["participant.joined", "Grace"],
        ["participant.left", "Grace"],
      ]);
    });

    it("sends chat messages only to endpoints that opted in", async () => {
      const tenant = freshTenant();
      const token = await as(tenant);
      const all = receiver.path("all");
      const chat = receiver.path("chat");
      await hook(token, all);
      await hook(token, chat, { events: ["chat.message"] });
      const id = await meeting(token);
      await database.db.execute(sql`insert into chat_messages (id, tenant_id, meeting_id, sender_user_id,
        sender_name, content) values (${crypto.randomUUID()}, ${tenant}, ${id}, 'u1', 'Ada', 'hello all')`);
      await database.db.execute(sql`insert into chat_messages (id, tenant_id, meeting_id, sender_user_id,
        sender_name, recipient_participant_id, content)
        values (${crypto.randomUUID()}, ${tenant}, ${id}, 'u1', 'Ada', ${crypto.randomUUID()}, 'psst')`);
      await waitFor("chat", async () => receiver.at(chat).length >= 1, { timeoutMs: 10_000 });
      await waitFor("created", async () => receiver.at(all).length >= 1, { timeoutMs: 10_000 });
      expect(receiver.at(chat).map((r) => r.event.data.message.content)).toEqual(["hello all"]);
      expect(receiver.at(all).map((r) => r.event.type)).toEqual(["meeting.created"]);
    });
  });

  describe("retention", () => {
    it("prunes settled deliveries past the retention, never pending ones", async () => {
      const token = await as(freshTenant());
      const okUrl = receiver.path("prune-ok");
      const downUrl = receiver.path("prune-down", () => 500);
      const ok = await hook(token, okUrl, { events: ["meeting.created"] });
      const down = await hook(token, downUrl, { events: ["meeting.created"] });
      await meeting(token);
      await waitFor(
        "settled and tried",
        async () => {
          const [a] = await deliveries(token, ok.id);
          const [b] = await deliveries(token, down.id);
          return a?.status === "succeeded" && (b?.attempts ?? 0) >= 1;
        },
        { timeoutMs: 10_000 },
      );
      // Disabled, its pending row is left alone by the dispatcher however old it gets.
      await call(t, "PUT", `/api/webhooks/${down.id}`, { token, body: { enabled: false } });
      await waitFor(
        "no attempt in flight",
        async () => {
          const rows = await database.db
            .select({ lease: webhookDeliveries.leaseUntil })
            .from(webhookDeliveries)
            .where(eq(webhookDeliveries.endpointId, down.id));
          return rows.every((r) => r.lease === null);
        },
        { timeoutMs: 10_000 },
      );
      const ids = [ok.id, down.id];
      for (const id of ids) {
        await database.db
          .update(webhookDeliveries)
          .set({ createdAt: sql`now() - interval '40 days'` })
          .where(eq(webhookDeliveries.endpointId, id));
      }
      const [delivery] = await deliveries(token, ok.id);
      await database.db
        .update(webhookEvents)
        .set({ createdAt: sql`now() - interval '40 days'` })
        .where(eq(webhookEvents.id, delivery!.event_id));
      expect(await dispatcher.prune()).toBeGreaterThanOrEqual(1);
      expect(await deliveries(token, ok.id)).toEqual([]);
      // The failing one is still pending (its event with it): it goes on until it is given up.
      expect((await deliveries(token, down.id)).map((d) => d.status)).toEqual(["pending"]);
    });
  });

  describe("a receiver that is down", () => {
    it("never holds a meeting up", async () => {
      const token = await as(freshTenant());
      const hanging = receiver.path("down-hang", () => "hang");
      const failing = receiver.path("down-500", () => 500);
      const refused = "http://127.0.0.1:9/refused";
      const hooks = [await hook(token, hanging), await hook(token, failing), await hook(token, refused)];
      const id = await meeting(token);
      expect((await call(t, "PUT", `/api/meetings/${id}`, { token, body: { locked: true } })).status).toBe(
        200,
      );
      expect((await call(t, "POST", `/api/meetings/${id}/start`, { token })).status).toBe(200);
      expect((await call(t, "GET", `/api/meetings/${id}`, { token })).body.status).toBe("active");
      expect((await call(t, "POST", `/api/meetings/${id}/end`, { token })).status).toBe(200);
      await waitFor(
        "each endpoint tried and failing",
        async () => {
          for (const h of hooks) {
            const [d] = (await deliveries(token, h.id)).slice(-1);
            if (!d || d.attempts < 1 || d.last_error === null) return false;
          }
          return true;
        },
        { timeoutMs: 15_000 },
      );
      for (const h of hooks) {
        const log = await deliveries(token, h.id);
        expect(log.map((d) => d.status)).toEqual(["pending", "pending", "pending", "pending"]);
      }
      // Only the head of each meeting's queue is ever tried.
      const failingLog = await deliveries(token, hooks[1]!.id);
      expect(failingLog.filter((d) => d.attempts > 0).map((d) => d.event_type)).toEqual(["meeting.created"]);
    });

    it("delivers what was pending when its dispatcher stopped, from the next dispatcher", async () => {
      const token = await as(freshTenant());
      const url = receiver.path("restart", () => 500);
      const { id: hookId } = await hook(token, url, { events: ["meeting.created"] });
      const before = await meeting(token, "before the restart");
      await waitFor("tried once", async () => receiver.at(url).length >= 1, { timeoutMs: 10_000 });
      await dispatcher.close();
      // Written while no dispatcher runs: the outbox keeps it.
      const during = await meeting(token, "while stopped");
      receiver.behave(url, () => 200);
      dispatcher = new WebhookDispatcher({
        db: database.db,
        logger: silentLogger(),
        config: DISPATCH,
      }).start();
      await waitFor(
        "both delivered",
        async () => (await deliveries(token, hookId)).every((d) => d.status === "succeeded"),
        { timeoutMs: 15_000 },
      );
      const delivered = receiver
        .at(url)
        .filter((r) => r.event.type === "meeting.created")
        .map((r) => r.event.data.meeting.id);
      expect(new Set(delivered)).toEqual(new Set([before, during]));
    });
  });
});

describe("webhooks that may not reach private addresses (production default)", () => {
  let t: TestApp;
  let dispatcher: WebhookDispatcher;
  let database: Database;
  const receiver = new Receiver();
  appPerSuite(BACKENDS[0]!, (_app, db) => {
    database = db;
    t = makeApp(db, { config: testConfig({ WEBHOOK_ALLOW_PRIVATE: "0" }) });
    dispatcher = new WebhookDispatcher({
      db: db.db,
      logger: silentLogger(),
      config: { ...DISPATCH, allowPrivate: false },
    }).start();
  });
  beforeAll(() => receiver.start());
  afterAll(async () => {
    await dispatcher?.close();
    await receiver.close();
  });

  it("refuses loopback, private and link-local URLs at registration", async () => {
    const token = await userToken({ tenant: freshTenant(), sub: "root", role: "admin", clock: t.clock });
    for (const url of [
      "http://127.0.0.1:8080/hook",
      "http://localhost/hook",
      "http://[::1]/hook",
      "http://169.254.169.254/latest/meta-data",
      "http://10.1.2.3/",
      "https://192.168.0.10/",
      "http://[::ffff:127.0.0.1]/",
    ]) {
      const res = await call(t, "POST", "/api/webhooks", { token, body: { url } });
      expect(res.status, url).toBe(400);
      expect(res.body.error.fields[0].path).toBe("url");
    }
    const created = await call(t, "POST", "/api/webhooks", {
      token,
      body: { url: "https://hooks.example.com/x" },
    });
    expect(created.status).toBe(201);
    const moved = await call(t, "PUT", `/api/webhooks/${created.body.id}`, {
      token,
      body: { url: "http://127.0.0.1/x" },
    });
    expect(moved.status).toBe(400);
  });

  it("does not deliver to a private address even when one is stored", async () => {
    const tenant = freshTenant();
    const token = await userToken({ tenant, sub: "root", role: "admin", clock: t.clock });
    const url = receiver.path("private");
    const id = crypto.randomUUID();
    // As if written before the rule, or by hand: the dispatcher checks again.
    await database.db
      .insert(webhookEndpoints)
      .values({ id, tenantId: tenant, url, secret: "s", createdBy: "root" });
    await call(t, "POST", "/api/meetings", {
      token: await userToken({ tenant, sub: "alice", role: "host", clock: t.clock }),
      body: { title: "x" },
    });
    await waitFor(
      "refused attempt",
      async () => {
        const [d] = (await call(t, "GET", `/api/webhooks/${id}/deliveries`, { token })).body.data;
        return (d?.attempts ?? 0) >= 1 && d.last_error !== null;
      },
      { timeoutMs: 10_000 },
    );
    const [d] = (await call(t, "GET", `/api/webhooks/${id}/deliveries`, { token })).body.data;
    expect(d.last_error).toBe("refused: 127.0.0.1 is a private address");
    expect(receiver.at(url)).toEqual([]);
  });

  it("judges addresses a name resolves to", async () => {
    expect(
      [
        "127.0.0.1",
        "10.0.0.1",
        "172.20.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:10.0.0.1",
      ].every(isPrivateAddress),
    ).toBe(true);
    expect(["93.184.216.34", "2606:4700::1111", "172.32.0.1"].some(isPrivateAddress)).toBe(false);
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
      publicOnlyLookup("localhost", {}, (e) => resolve(e)),
    );
    expect(err?.code).toBe("EPRIVATE");
  });
});
