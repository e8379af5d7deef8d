import { ApiError, restJoin } from "@nexus/client";
import type { JoinAnswer, JoinBody } from "@nexus/shared/rest/join";
import type { CreateMeetingBody, Meeting } from "@nexus/shared/rest/meetings";

/** A refusal from the API, with the error code the UI turns into a sentence (one class with the library's). */
export { ApiError };

export interface DevTokenRequest {
  tenant_id: string;
  sub: string;
  role: "admin" | "host" | "member";
  name?: string;
}

/** The REST API as the page uses it; `base` is "" when the page is served by the service itself. */
export class Api {
  constructor(
    private token: string | null,
    private readonly base = "",
  ) {}

  setToken(token: string | null): void {
    this.token = token;
  }

  get signedIn(): boolean {
    return this.token !== null;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "unavailable", "the service cannot be reached");
    }
    const text = await res.text();
    const parsed = text ? safeJson(text) : null;
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
      throw new ApiError(res.status, error?.code ?? "internal", error?.message ?? `HTTP ${res.status}`);
    }
    return parsed as T;
  }

  devInfo(): Promise<{ dev: boolean }> {
    return this.call<{ dev: boolean }>("GET", "/dev/info").catch(() => ({ dev: false }));
  }

  devToken(body: DevTokenRequest): Promise<{ token: string; expires_at: string }> {
    return this.call("POST", "/dev/token", body);
  }

  listMeetings(): Promise<{ data: Meeting[]; next_cursor: string | null }> {
    return this.call("GET", "/api/meetings?limit=100");
  }

  getMeeting(id: string): Promise<Meeting> {
    return this.call("GET", `/api/meetings/${encodeURIComponent(id)}`);
  }

  createMeeting(body: Partial<CreateMeetingBody> & { title: string }): Promise<Meeting> {
    return this.call("POST", "/api/meetings", body);
  }

  startMeeting(id: string): Promise<Meeting> {
    return this.call("POST", `/api/meetings/${encodeURIComponent(id)}/start`);
  }

  endMeeting(id: string): Promise<Meeting> {
    return this.call("POST", `/api/meetings/${encodeURIComponent(id)}/end`);
  }

  updateMeeting(id: string, body: Record<string, unknown>): Promise<Meeting> {
    return this.call("PUT", `/api/meetings/${encodeURIComponent(id)}`, body);
  }

  /** Through the client library's restJoin, which also checks the answer against shared's schema. */
  join(id: string, body: JoinBody): Promise<JoinAnswer> {
    return restJoin({ baseUrl: this.base, meetingId: id, token: this.token ?? "", body });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** What a person should read for each refusal, instead of an error code. */
export function describeError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = (error as { message?: string }).message ?? String(error);
  switch (code) {
    case "wrong_password":
      return message.includes("needs") ? "This meeting needs a password." : "Wrong meeting password.";
    case "meeting_full":
      return "The meeting is full.";
    case "meeting_locked":
      return "The meeting is locked by its host.";
    case "invalid_state":
      return /ended/i.test(message) ? "The meeting has ended." : message;
    case "not_found":
      return "Meeting not found.";
    case "unauthorized":
      return "Your sign-in is not valid any more. Please sign in again.";
    case "forbidden":
      return /removed/i.test(message)
        ? "A host removed you from this meeting."
        : "You are not allowed to do that.";
    case "no_media_host":
      return "No media server is available right now. Try again in a moment.";
    case "unavailable":
      return "The service cannot be reached.";
    default:
      return message;
  }
}
