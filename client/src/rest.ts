import { type JoinAnswer, JoinAnswerSchema, type JoinBody } from "@nexus/shared/rest/join";
import * as v from "valibot";

/** A refusal from control's REST API, with its error code (see shared/src/errors.ts). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface RestJoinOptions {
  /** Where control answers: "" on a page served by the service itself, else e.g. "https://meet.example.com". */
  baseUrl: string;
  meetingId: string;
  /** The user's JWT (a function, so that a refreshed token is used on a later re-join). */
  token: string | (() => string | Promise<string>);
  body?: JoinBody;
  fetch?: typeof fetch;
}

/** POST /api/meetings/:id/join: where to connect and with what. */
export async function restJoin(options: RestJoinOptions): Promise<JoinAnswer> {
  const token = typeof options.token === "function" ? await options.token() : options.token;
  const doFetch = options.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(`${options.baseUrl}/api/meetings/${encodeURIComponent(options.meetingId)}/join`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(options.body ?? {}),
    });
  } catch {
    throw new ApiError(0, "unavailable", "the service cannot be reached");
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  if (!res.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, error?.code ?? "internal", error?.message ?? `HTTP ${res.status}`);
  }
  const answer = v.safeParse(JoinAnswerSchema, parsed);
  if (!answer.success) throw new ApiError(res.status, "internal", "malformed join answer");
  return answer.output;
}

/**
 * Join refusals that another attempt will not change: recovery stops and says why. Not `meeting_full`: a
 * re-join may be counted against our own old place until the host lets it go, so that one is retried.
 */
export const FINAL_JOIN_CODES: ReadonlySet<string> = new Set([
  "forbidden",
  "not_found",
  "invalid_state",
  "meeting_locked",
  "wrong_password",
  "unauthorized",
]);
