/**
 * How a load participant gets in, exactly like any client: a user JWT (the development sign-in
 * `POST /dev/token` of the one-process service, or minted with the deployment's JWT secret), the REST API to
 * create, start and join the meeting, then the media host's signaling WebSocket with the join token.
 */
import { SignalingClient } from "@nexus/shared/signaling/client";
import type { JoinedAck } from "@nexus/shared/signaling/requests";
import { SignJWT } from "jose";
import WebSocket from "ws";

export interface AuthOptions {
  /** Base URL of the REST API (and of /dev/token), e.g. http://127.0.0.1:8095 */
  url: string;
  tenant: string;
  /** HS256 secret of user JWTs; without it the tester asks the service's development sign-in. */
  jwtSecret?: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

async function call<T>(url: string, method: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
    throw new HttpError(
      res.status,
      err?.code ?? "http_error",
      `${method} ${url}: ${res.status} ${err?.message ?? text.slice(0, 200)}`,
    );
  }
  return json as T;
}

/** A user token for `sub`: minted locally with the secret, or from the development sign-in. */
export async function userToken(
  auth: AuthOptions,
  sub: string,
  role: "host" | "member",
  name: string,
): Promise<string> {
  if (auth.jwtSecret) {
    return new SignJWT({ tenant_id: auth.tenant, role, name })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime("8h")
      .sign(new TextEncoder().encode(auth.jwtSecret));
  }
  try {
    const minted = await call<{ token: string }>(`${auth.url}/dev/token`, "POST", {
      tenant_id: auth.tenant,
      sub,
      role,
      name,
    });
    return minted.token;
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) {
      throw new Error(
        `${auth.url} has no development sign-in (/dev/token): pass --jwt-secret (or JWT_SECRET) of the deployment`,
      );
    }
    throw error;
  }
}

export interface MeetingRef {
  id: string;
}

export async function createMeeting(auth: AuthOptions, hostToken: string, title: string, max: number) {
  const meeting = await call<MeetingRef>(
    `${auth.url}/api/meetings`,
    "POST",
    { title, max_participants: Math.min(1000, max), lobby_enabled: false, is_public: true },
    hostToken,
  );
  await call(`${auth.url}/api/meetings/${meeting.id}/start`, "POST", undefined, hostToken);
  return meeting;
}

export async function endMeeting(auth: AuthOptions, hostToken: string, id: string): Promise<void> {
  await call(`${auth.url}/api/meetings/${id}/end`, "POST", undefined, hostToken).catch(() => {});
}

export interface JoinAnswer {
  ws_url: string;
  join_token: string;
  participant_id: string;
}

/** Opens the signaling socket; rejects with the HTTP status when the host refuses the upgrade. */
export function openSocket(
  url: string,
  timeoutMs = 30_000,
): Promise<{ client: SignalingClient; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`signaling socket ${url.split("?")[0]} did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`signaling refused with HTTP ${res.statusCode}`));
    });
    ws.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.once("open", () => {
      clearTimeout(timer);
      resolve({ client: new SignalingClient(ws, { timeoutMs }), ws });
    });
  });
}

export interface Joined {
  client: SignalingClient;
  ws: WebSocket;
  ack: JoinedAck;
  /** Where the join's time went (ms): the REST join, opening the socket, the join-meeting answer. */
  phases: { rest: number; socket: number; signal: number };
}

/** REST join, socket, join-meeting: what a browser does before any media. */
export async function joinMeeting(
  auth: AuthOptions,
  token: string,
  meetingId: string,
  name: string,
): Promise<Joined> {
  const t0 = performance.now();
  const answer = await call<JoinAnswer>(
    `${auth.url}/api/meetings/${meetingId}/join`,
    "POST",
    { display_name: name },
    token,
  );
  const t1 = performance.now();
  const { client, ws } = await openSocket(`${answer.ws_url}?token=${encodeURIComponent(answer.join_token)}`);
  const t2 = performance.now();
  const ack = await client.request("join-meeting", {});
  const t3 = performance.now();
  if (ack.lobby) {
    client.close();
    throw new Error("held in the lobby (the tester creates its meetings with the lobby off)");
  }
  return { client, ws, ack, phases: { rest: t1 - t0, socket: t2 - t1, signal: t3 - t2 } };
}
