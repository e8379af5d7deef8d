/**
 * The client side of `bench:join`: a bare-bones protocol client (requests `{ id, type, data }`, acks matched
 * by id, notifications ignored) that joins, opens a recv transport, consumes the room's video producer and
 * resumes it. join-latency.ts runs it as its own process on the other core: it reads one command per stdin
 * line (`{"seq":n}` or `{"conc":n}`), signs its own join tokens (control's job in production, so not the media
 * host's CPU) and answers one JSON line of samples.
 */
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { memberToken } from "./tokens.js";

export interface Sample {
  /** WebSocket upgrade (token check, meeting lookup, ownership) until open. */
  connectMs: number;
  /** join-meeting sent until its ack. */
  joinAckMs: number;
  /** join-meeting sent until the resume-consumer ack: "first consumer ready". */
  readyMs: number;
}

export interface JoinTarget {
  wsUrl: string;
  meetingId: string;
  tenantId: string;
  hostId: string;
  secret: string;
}

const joinToken = (target: JoinTarget): Promise<string> =>
  memberToken(target, { secret: target.secret, ttlSeconds: 600 });

function openClient(url: string): Promise<{
  request(type: string, data: unknown): Promise<Record<string, unknown>>;
  close(): void;
}> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const pending = new Map<number, { ok: (d: Record<string, unknown>) => void; ko: (e: Error) => void }>();
    let next = 1;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("connect timeout"));
    }, 10_000);
    ws.on("message", (raw) => {
      const text = String(raw);
      // Notifications (participant-joined, ...) start with {"type": skip them without parsing.
      if (!text.startsWith('{"id"')) return;
      const msg = JSON.parse(text) as { id?: number; success?: boolean; data?: unknown; error?: unknown };
      if (msg.id === undefined) return;
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.success) p.ok(msg.data as Record<string, unknown>);
      else p.ko(new Error(JSON.stringify(msg.error)));
    });
    ws.once("error", reject);
    // A socket the server closes fails what it still owes instead of leaving it to the 10 s timeout.
    let lastError = "";
    ws.on("error", (err) => {
      lastError = String(err);
    });
    ws.once("close", (code, reason) => {
      const why = `socket closed ${code} ${String(reason)}${lastError ? ` (${lastError})` : ""}`;
      for (const p of pending.values()) p.ko(new Error(why));
      pending.clear();
    });
    ws.once("open", () => {
      clearTimeout(timer);
      resolve({
        request(type, data) {
          const id = next++;
          return new Promise((ok, ko) => {
            const t = setTimeout(() => {
              pending.delete(id);
              ko(new Error(`${type}: no ack in 10 s`));
            }, 10_000);
            pending.set(id, {
              ok: (d) => {
                clearTimeout(t);
                ok(d);
              },
              ko: (e) => {
                clearTimeout(t);
                ko(e);
              },
            });
            ws.send(JSON.stringify({ id, type, data }));
          });
        },
        close: () => ws.close(1000),
      });
    });
  });
}

async function oneJoin(wsUrl: string, token: string): Promise<Sample> {
  const t0 = performance.now();
  const c = await openClient(`${wsUrl}/?token=${encodeURIComponent(token)}`);
  const t1 = performance.now();
  const joined = await c.request("join-meeting", {});
  const t2 = performance.now();
  const peers = joined.peers as { producers: { producer_id: string; kind: string }[] }[];
  const producer = peers.flatMap((p) => p.producers).find((p) => p.kind === "video");
  if (!producer) throw new Error("no video producer in the room");
  const transport = await c.request("create-transport", { direction: "recv" });
  const consumer = await c.request("consume", {
    transport_id: transport.transport_id,
    producer_id: producer.producer_id,
    rtp_capabilities: joined.router_rtp_capabilities,
  });
  await c.request("resume-consumer", { consumer_id: consumer.consumer_id });
  const t3 = performance.now();
  c.close();
  return { connectMs: t1 - t0, joinAckMs: t2 - t1, readyMs: t3 - t1 };
}

/** n joins one after another; tokens are signed before the first, outside the measured time. */
async function sequential(target: JoinTarget, n: number): Promise<Sample[]> {
  const tokens = await Promise.all(Array.from({ length: n }, () => joinToken(target)));
  const out: Sample[] = [];
  for (const t of tokens) out.push(await oneJoin(target.wsUrl, t));
  return out;
}

/** n joins started at once. */
async function concurrent(target: JoinTarget, n: number): Promise<Sample[]> {
  const tokens = await Promise.all(Array.from({ length: n }, () => joinToken(target)));
  return Promise.all(tokens.map((t) => oneJoin(target.wsUrl, t)));
}

/** Child-process mode: argv[2] is the JoinTarget as JSON. */
async function serve(target: JoinTarget): Promise<void> {
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    const cmd = JSON.parse(line) as { seq?: number; conc?: number };
    try {
      const cpu0 = process.cpuUsage();
      const samples =
        cmd.seq !== undefined ? await sequential(target, cmd.seq) : await concurrent(target, cmd.conc ?? 0);
      const cpu = process.cpuUsage(cpu0);
      // This process's CPU for the command (its own token signing included), all threads.
      process.stdout.write(`${JSON.stringify({ samples, cpuUs: cpu.user + cpu.system })}\n`);
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ error: String(err) })}\n`);
    }
  }
}

if (process.argv[1]?.endsWith("join-client.ts") && process.argv[2]) {
  serve(JSON.parse(process.argv[2]) as JoinTarget).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
