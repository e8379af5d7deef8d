/**
 * The connectivity check: from where it runs, which paths to a deployment work. It signs in with a user
 * token, creates a throwaway meeting, joins it, and tries signaling (the proxy's WebSocket path), ICE over
 * UDP and over TCP to the media host the meeting was placed on (a real ICE connectivity check with the
 * host's credentials), and every TURN server of the join answer (an Allocate with the short-lived
 * credential). Each path gets a round-trip time or a plain-language hint. The meeting is ended and deleted.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { type IceProbeResult, probeIce, probeTurn, type TurnProbeResult } from "@nexus/platform/turn-probe";
import type { JoinAnswer } from "@nexus/shared/rest/join";
import { SignalingClient } from "@nexus/shared/signaling/client";
import WebSocket from "ws";

export type CheckPath = "api" | "signaling" | "ice-udp" | "ice-tcp" | "turn-udp" | "turn-tcp" | "turn-tls";

export interface PathResult {
  path: CheckPath;
  target: string;
  ok: boolean;
  rttMs?: number;
  hint?: string;
}

export interface CheckReport {
  hostId: string | null;
  results: PathResult[];
}

export interface CheckOptions {
  /** The deployment's origin, e.g. https://meet.example.com */
  origin: string;
  /** A user JWT with the host role (it creates and deletes one meeting). */
  token: string;
  /** Extra trusted CA (PEM), for an internal CA. */
  ca?: string;
  timeoutMs?: number;
}

interface Answer {
  status: number;
  body: unknown;
}

function call(method: string, url: string, options: CheckOptions, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}` };
    if (payload) headers["content-type"] = "application/json";
    const send = url.startsWith("https:") ? httpsRequest : httpRequest;
    const req = send(
      url,
      { method, headers, timeout: options.timeoutMs ?? 5000, ...(options.ca ? { ca: options.ca } : {}) },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString();
        });
        res.on("end", () => {
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(payload);
  });
}

/** Where a turn:/turns: URL points and over what. */
export function parseTurnUrl(
  url: string,
): { host: string; port: number; transport: "udp" | "tcp" | "tls" } | null {
  const m = url.match(/^(turns?):(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/);
  if (!m) return null;
  const secure = m[1] === "turns";
  return {
    host: m[2]!.replace(/^\[|\]$/g, ""),
    port: m[3] ? Number(m[3]) : secure ? 5349 : 3478,
    transport: secure ? "tls" : m[4] === "tcp" ? "tcp" : "udp",
  };
}

/** The sentence a person reads when a path fails. */
export function hintFor(
  path: CheckPath,
  target: string,
  result: IceProbeResult | TurnProbeResult | { failure: string; code?: number },
): string {
  if ("ok" in result && result.ok) return "";
  const failure = "failure" in result ? result.failure : "timeout";
  const code = "code" in result ? result.code : undefined;
  const [host, port] = [target.slice(0, target.lastIndexOf(":")), target.slice(target.lastIndexOf(":") + 1)];
  switch (path) {
    case "ice-udp":
      return `UDP ${port} on ${host} looks blocked: open it or rely on TURN`;
    case "ice-tcp":
      return failure === "refused"
        ? `TCP ${port} on ${host} refuses connections: is the media host's MEDIASOUP_ANNOUNCED_IP right?`
        : `TCP ${port} on ${host} looks blocked: open it or rely on TURN`;
    default: {
      const over = path === "turn-udp" ? "UDP" : path === "turn-tcp" ? "TCP" : "TLS";
      if (failure === "rejected" && code === 401)
        return `TURN at ${target} refused the credential: TURN_SECRET differs between control and coturn, or their clocks do`;
      if (failure === "rejected") return `TURN at ${target} said no (${code ?? "?"}): see coturn's log`;
      if (path === "turn-tls" && failure === "refused")
        return `TURN over TLS to ${target} failed the handshake or the connection: check coturn's certificate and ${over} ${port}`;
      return `TURN over ${over} to ${target} does not answer: open ${over === "UDP" ? "UDP" : "TCP"} ${port} to the TURN server`;
    }
  }
}

export async function runConnectivityCheck(options: CheckOptions): Promise<CheckReport> {
  const origin = options.origin.replace(/\/$/, "");
  const timeoutMs = options.timeoutMs ?? 5000;
  const results: PathResult[] = [];
  const started = performance.now();
  const health = await call("GET", `${origin}/health`, options).catch((e: Error) => ({
    status: 0,
    body: e.message,
  }));
  results.push({
    path: "api",
    target: `${origin}/health`,
    ok: health.status === 200,
    rttMs: performance.now() - started,
    ...(health.status === 200
      ? {}
      : { hint: `the API does not answer (${health.status || String(health.body)}): is the proxy up?` }),
  });
  if (health.status !== 200) return { hostId: null, results };

  const made = await call("POST", `${origin}/api/meetings`, options, { title: "Connectivity check" });
  if (made.status !== 201)
    throw new Error(`could not create the check's meeting: ${made.status} ${JSON.stringify(made.body)}`);
  const meetingId = (made.body as { id: string }).id;
  let ws: WebSocket | null = null;
  try {
    const joined = await call("POST", `${origin}/api/meetings/${meetingId}/join`, options, {});
    if (joined.status !== 200) throw new Error(`could not join the check's meeting: ${joined.status}`);
    const answer = joined.body as JoinAnswer;
    const url = new URL(answer.ws_url);
    url.searchParams.set("token", answer.join_token);

    const t0 = performance.now();
    try {
      const socket = new WebSocket(url, {
        ...(options.ca ? { ca: options.ca } : {}),
        handshakeTimeout: timeoutMs,
      });
      ws = socket;
      const client = new SignalingClient(socket as never, { timeoutMs });
      await client.opened();
      await client.request("join-meeting", {});
      results.push({ path: "signaling", target: answer.ws_url, ok: true, rttMs: performance.now() - t0 });
      const transport = await client.request("create-transport", { direction: "recv" });
      const ice = transport.ice_parameters as { usernameFragment: string; password: string };
      for (const c of transport.ice_candidates as {
        protocol: "udp" | "tcp";
        address?: string;
        ip?: string;
        port: number;
      }[]) {
        const host = c.address ?? c.ip ?? "";
        const target = `${host}:${c.port}`;
        const result = await probeIce({ host, port: c.port, transport: c.protocol, ...ice, timeoutMs });
        const path = c.protocol === "udp" ? "ice-udp" : "ice-tcp";
        results.push(
          result.ok
            ? { path, target, ok: true, rttMs: result.rttMs }
            : { path, target, ok: false, hint: hintFor(path, target, result) },
        );
      }
    } catch (error) {
      if (!results.some((r) => r.path === "signaling")) {
        results.push({
          path: "signaling",
          target: answer.ws_url,
          ok: false,
          hint: `the WebSocket at ${answer.ws_url} did not open (${error instanceof Error ? error.message : String(error)}): the proxy must pass /media/<host-id> to the media host with WebSocket upgrades, and MEDIA_PUBLIC_URL must name it`,
        });
      }
    }

    for (const server of answer.ice_servers ?? []) {
      for (const raw of Array.isArray(server.urls) ? server.urls : [server.urls]) {
        const turn = parseTurnUrl(raw);
        if (!turn || !server.username || !server.credential) continue;
        const path = `turn-${turn.transport}` as const;
        const target = `${turn.host}:${turn.port}`;
        const result = await probeTurn({
          ...turn,
          username: server.username,
          credential: server.credential,
          timeoutMs,
          ...(options.ca ? { ca: options.ca } : {}),
        });
        results.push(
          result.ok
            ? { path, target, ok: true, rttMs: result.rttMs }
            : { path, target, ok: false, hint: hintFor(path, target, result) },
        );
      }
    }
    return { hostId: answer.host_id, results };
  } finally {
    ws?.close();
    await call("POST", `${origin}/api/meetings/${meetingId}/end`, options).catch(() => {});
    await call("DELETE", `${origin}/api/meetings/${meetingId}`, options).catch(() => {});
  }
}

/** The report as a person reads it. */
export function formatReport(report: CheckReport): string {
  const lines = report.results.map((r) => {
    const state = r.ok ? `ok   ${r.rttMs === undefined ? "" : `${r.rttMs.toFixed(0)} ms`}` : "FAIL";
    return `${r.path.padEnd(10)} ${r.target.padEnd(48)} ${state}${r.hint ? `\n           -> ${r.hint}` : ""}`;
  });
  return [`media host: ${report.hostId ?? "(not reached)"}`, ...lines].join("\n");
}
