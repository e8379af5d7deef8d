import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Participant } from "../../media/test/support/participant.js";
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

describe("webhooks of the one-process server, from a real media host's writes", () => {
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
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
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

  it("tells the receiver, in order and signed, that a meeting started, who came and went, and that it ended", async () => {
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
});
