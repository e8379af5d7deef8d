import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { SignalingClient } from "@nexus/shared/signaling/client";
import {
  createTestDatabase,
  freePort,
  freeRtcPorts,
  type TestDatabase,
  testPgUrl,
  testRedisUrl,
  waitFor,
} from "@nexus/testkit";
import { type ManagedChild, spawnManaged } from "@nexus/testkit/child";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "./support/participant.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SECRET = "two-hosts-join-secret-0123456789";
const USER_SECRET = "two-hosts-user-jwt-secret-0123456789";

/** A private Redis database index keeps this file's registry apart from other files sharing the server. */
function redisUrl(): string {
  const url = new URL(testRedisUrl());
  url.pathname = "/9";
  return url.toString();
}

function tsx(entry: string, env: Record<string, string>): ManagedChild {
  return spawnManaged(process.execPath, ["--import", "tsx", `${ROOT}${entry}`], {
    env: { ...process.env, LOG_DIR: "", LOG_LEVEL: "warn", ...env },
  });
}

describe("two media host processes behind one control plane over Redis", () => {
  let database: TestDatabase;
  let control: ManagedChild;
  let controlUrl: string;
  const hosts: ManagedChild[] = [];
  const hostPorts: number[] = [];
  const tenant = `tenant-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    database = await createTestDatabase(testPgUrl());
    const redis = redisUrl();
    const common = { DATABASE_URL: database.url, REDIS_URL: redis, JOIN_TOKEN_SECRET: SECRET };
    for (const id of ["media-a", "media-b"]) {
      const mediaPort = await freePort();
      const rtc = await freeRtcPorts(10);
      hostPorts.push(mediaPort);
      hosts.push(
        tsx("media/src/entry/node.ts", {
          ...common,
          MEDIA_HOST_ID: `${id}-${tenant}`,
          MEDIA_BIND: "127.0.0.1",
          MEDIA_PORT: String(mediaPort),
          MEDIASOUP_LISTEN_IP: "127.0.0.1",
          MEDIA_NUM_WORKERS: "1",
          RTC_MIN_PORT: String(rtc),
          RTC_MAX_PORT: String(rtc + 9),
          MEDIA_HEARTBEAT_MS: "500",
        }),
      );
    }
    const port = await freePort();
    controlUrl = `http://127.0.0.1:${port}`;
    control = tsx("control/src/entry/node.ts", {
      ...common,
      PORT: String(port),
      HOST: "127.0.0.1",
      JWT_SECRET: USER_SECRET,
      NODE_ENV: "test",
      HOST_MAX_AGE_MS: "5000",
    });
    await waitFor(
      "control to answer",
      async () => (await fetch(`${controlUrl}/health`).catch(() => null))?.ok ?? false,
      {
        timeoutMs: 30_000,
        abort: () => (control.exited() ? control.output() : null),
      },
    );
  });
  afterAll(async () => {
    await Promise.all([control?.stop(), ...hosts.map((h) => h.stop())]);
    await database?.drop();
  });

  async function api(path: string, init: { method: string; body?: unknown }) {
    const token = await new SignJWT({ tenant_id: tenant, role: "host", name: "Ann" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("user-ann")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(USER_SECRET));
    const res = await fetch(`${controlUrl}${path}`, {
      method: init.method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  it("places two meetings on the two hosts, each serves its own, and /end reaches the right one", async () => {
    const output = () => hosts.map((h) => h.output()).join("\n");
    for (const port of hostPorts) {
      await waitFor(
        `media host on ${port} to answer`,
        async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok ?? false,
        { timeoutMs: 30_000, abort: () => (hosts.some((h) => h.exited()) ? output() : null) },
      );
    }
    // Let both heartbeats reach the registry before control places anything.
    await new Promise((r) => setTimeout(r, 1500));

    const joins: { meetingId: string; ws_url: string; join_token: string }[] = [];
    const clients: SignalingClient[] = [];
    for (const title of ["first", "second"]) {
      const created = await api("/api/meetings", { method: "POST", body: { title } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const join = await api(`/api/meetings/${created.body.id}/join`, { method: "POST", body: {} });
      expect(join.status, JSON.stringify(join.body)).toBe(200);
      joins.push({ meetingId: created.body.id, ...join.body });
      // Occupy the host so the next placement sees it loaded once its heartbeat lands.
      const { client } = await connect(`${join.body.ws_url}/?token=${join.body.join_token}`);
      const ack = await client.request("join-meeting", {});
      expect(ack.meeting_id).toBe(created.body.id);
      clients.push(client);
      await new Promise((r) => setTimeout(r, 1500));
    }
    const hostUrls = new Set(joins.map((j) => j.ws_url));
    expect(hostUrls.size).toBe(2);

    const sessions = joins.map((j, i) => ({ ...j, client: clients[i]! }));
    // A token for meeting 0 presented to meeting 1's host is refused at the door.
    const [first, second] = sessions as [(typeof sessions)[0], (typeof sessions)[0]];
    const crossJoin = await api(`/api/meetings/${first.meetingId}/join`, { method: "POST", body: {} });
    const refused = await connect(`${second.ws_url}/?token=${crossJoin.body.join_token}`).catch((e) => e);
    expect(refused.status).toBe(401);

    const ended = await api(`/api/meetings/${first.meetingId}/end`, { method: "POST" });
    expect(ended.status, JSON.stringify(ended.body)).toBeLessThan(300);
    expect(await first.client.waitFor("meeting-ended", () => true, { timeoutMs: 10_000 })).toMatchObject({
      reason: expect.any(String),
    });
    // The other meeting carries on.
    expect(await second.client.request("toggle-mute", { muted: true })).toEqual({ muted: true });
    expect(second.client.received("meeting-ended")).toEqual([]);
    second.client.close();
    first.client.close();
  });
});
