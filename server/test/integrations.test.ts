import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, Participant } from "../../media/test/support/participant.js";
import { type Embedded, startEmbedded } from "../src/embedded.js";

// biome-ignore lint/suspicious/noExplicitAny: events are read field by field
type Event = { body: string; headers: Record<string, unknown>; event: any };

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not after ${timeoutMs} ms`);
}

/** One embedded service for the office-suite integrations: webhooks and guest links, each end to end. */
describe("the one-process server with a real media host", () => {
  let app: Embedded;
  let receiver: Server;
  let receiverUrl: string;
  const received: Event[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), "nexus-embedded-webhooks-"));

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        received.push({ body, headers: req.headers, event: JSON.parse(body) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const rtc = 29_000 + Math.floor(Math.random() * 500) * 2;
    app = await startEmbedded({
      port: 0,
      mediaPort: 0,
      host: "127.0.0.1",
      dataDir,
      webDir: dataDir,
      rtcMinPort: rtc,
      rtcMaxPort: rtc + 1,
      numWorkers: 1,
      handleSignals: false,
      env: {
        ...process.env,
        NODE_ENV: "development",
        LOG_LEVEL: "warn",
        LOG_DIR: "-",
        MEDIA_BIND: "127.0.0.1",
        WEBHOOK_POLL_MS: "20",
        WEBHOOK_RETRY_BASE_MS: "20",
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await new Promise<void>((r) => {
      if (!receiver) return r();
      receiver.close(() => r());
      receiver.closeAllConnections();
    });
    rmSync(dataDir, { recursive: true, force: true });
  });

  const tokenFor = async (role: string, sub: string) => {
    const res = await fetch(`${app.url}/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenant_id: "suite", sub, role, name: sub }),
    });
    return ((await res.json()) as { token: string }).token;
  };
  const api = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${app.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };

  it("webhooks: tells the receiver, in order and signed, that a meeting started, who came and went, and that it ended", async () => {
    const admin = await tokenFor("admin", "root");
    const hook = await api(admin, "POST", "/api/webhooks", { url: receiverUrl });
    expect(hook.status).toBe(201);
    const meeting = await api(admin, "POST", "/api/meetings", { title: "All hands" });
    const id = meeting.body.id as string;

    const join = await api(await tokenFor("member", "mia"), "POST", `/api/meetings/${id}/join`, {
      display_name: "Mia",
    });
    expect(join.status).toBe(200);
    const mia = await Participant.join(`${join.body.ws_url}/?token=${join.body.join_token}`);
    await until("joined announced", () => received.some((r) => r.event.type === "participant.joined"));
    await mia.client.request("leave-meeting", {});
    mia.close();
    await until("left announced", () => received.some((r) => r.event.type === "participant.left"));
    expect((await api(admin, "POST", `/api/meetings/${id}/end`)).status).toBe(200);
    await until("ended announced", () => received.some((r) => r.event.type === "meeting.ended"));

    const ours = received.filter((r) => (r.event.data.meeting?.id ?? r.event.data.meeting_id) === id);
    expect(ours.map((r) => r.event.type)).toEqual([
      "meeting.created",
      "meeting.started",
      "participant.joined",
      "participant.left",
      "meeting.ended",
    ]);
    expect(ours[2]!.event.data.participant).toMatchObject({ user_id: "mia", role: "member" });
    for (const r of ours) {
      const ts = String(r.headers["nexus-timestamp"]);
      const mac = createHmac("sha256", hook.body.secret).update(`${ts}.${r.body}`).digest("hex");
      expect(r.headers["nexus-signature"]).toBe(`v1=${mac}`);
    }
  });
  it("guest links: a guest without an account waits in the lobby, is admitted, sees the host, and is marked guest but moderates nothing", async () => {
    const alice = await tokenFor("host", "alice");
    const id = (await api(alice, "POST", "/api/meetings", { title: "Vendor call" })).body.id as string;
    const other = (await api(alice, "POST", "/api/meetings", { title: "Internal" })).body.id as string;
    const hostJoin = await api(alice, "POST", `/api/meetings/${id}/join`, {});
    const host = await Participant.join(`${hostJoin.body.ws_url}/?token=${hostJoin.body.join_token}`);
    await host.createTransports();
    await host.produceCamera();

    const link = await api(alice, "POST", `/api/meetings/${id}/guest-links`, { max_uses: 1 });
    expect(link.status).toBe(201);
    const join = await fetch(`${app.url}/guest/join`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: link.body.token, display_name: "Grace" }),
    });
    expect(join.status).toBe(200);
    const answer = (await join.json()) as { ws_url: string; join_token: string; participant_id: string };

    // The meeting's lobby is off, but the link's is not.
    const { client, ws } = await connect(`${answer.ws_url}/?token=${answer.join_token}`);
    const waiting = await client.request("join-meeting", {});
    expect(waiting).toMatchObject({ lobby: true, role: "guest", display_name: "Grace" });
    await host.client.waitFor("lobby-request", (d) => d.participant_id === answer.participant_id);
    await host.client.request("lobby-admit", { participant_id: answer.participant_id });
    await client.waitFor("lobby-admitted");
    const guest = new Participant(client, ws);
    await guest.joinMeeting();
    expect(guest.joinAck.role).toBe("guest");
    expect(guest.joinAck.peers.map((p) => p.participant_id)).toEqual([host.id]);
    const seen = await host.client.waitFor("participant-joined", (d) => d.participant_id === guest.id);
    expect(seen.role).toBe("guest");

    await guest.createTransports();
    await guest.consumeAll();
    const camera = [...host.producers.values()][0]!;
    await until(
      "guest decodes the host's camera",
      async () => (await guest.inbound(camera.id)).framesDecoded > 0,
    );

    // Every host action is refused, and the meeting goes on.
    const actions: [string, Record<string, unknown>][] = [
      ["mute-participant", { participant_id: host.id }],
      ["stop-video", { participant_id: host.id }],
      ["remove-participant", { participant_id: host.id }],
      ["promote", { participant_id: guest.id }],
      ["lock-meeting", { locked: true }],
      ["set-lobby", { enabled: false }],
      ["end-meeting", {}],
    ];
    for (const [type, data] of actions) {
      await expect(
        (guest.client.request as (t: string, d: unknown) => Promise<unknown>)(type, data),
      ).rejects.toMatchObject({ code: "forbidden" });
    }
    // Nor can a host make a guest a co-host.
    expect(await host.client.request("promote", { participant_id: guest.id })).toEqual({ role: "guest" });
    expect((await api(alice, "GET", `/api/meetings/${id}`)).body.status).toBe("active");
    const people = await api(alice, "GET", `/api/meetings/${id}/participants`);
    expect(people.body.data.find((p: { id: string }) => p.id === guest.id)).toMatchObject({
      role: "guest",
      display_name: "Grace",
    });

    // The link was for one person, and for this meeting only.
    const again = await fetch(`${app.url}/guest/join`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: link.body.token, display_name: "Mallory" }),
    });
    expect(again.status).toBe(403);
    const elsewhere = await fetch(`${app.url}/api/meetings/${other}/join`, {
      method: "POST",
      headers: { authorization: `Bearer ${answer.join_token}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(elsewhere.status).toBe(401);
    guest.close();
    host.close();
  });
});
