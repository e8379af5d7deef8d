import type { Logger } from "@nexus/platform";
import { AppError, type ErrorCode, isAppError } from "@nexus/shared/errors";
import { isMessageId, type MessageId, readEnvelope } from "@nexus/shared/signaling/envelope";
import { FAST_PARSE } from "@nexus/shared/signaling/fast-parse";
import type { RequestType } from "@nexus/shared/signaling/requests";
import { isRequestType, REQUESTS } from "@nexus/shared/signaling/requests";
import * as v from "valibot";
import type { HandlerContext, HandlerGroup, Session } from "../handlers/types.js";

/** Where the answer to one message goes (the socket it came on). */
export type Reply = (text: string) => void;

export interface DispatchOptions {
  handlers: HandlerGroup<RequestType>;
  context(session: Session): HandlerContext;
  logger: Logger;
}

/**
 * One text message of a session to its handler and back: parse, envelope, message type, the request's schema
 * (or its written-out check), the handler, and one ack or one typed error. No socket in it: the signal server
 * hands it the text and a reply function.
 */
export function createDispatch(options: DispatchOptions) {
  const { logger } = options;
  return async function dispatch(session: Session, text: string, out: Reply): Promise<void> {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      reply(out, null, { code: "bad_request", message: "message is not JSON" });
      return;
    }
    const envelope = readEnvelope(raw);
    if (!envelope) {
      reply(out, idOf(raw), { code: "bad_request", message: "expected { id, type, data }" });
      return;
    }
    const { id, type } = envelope;
    if (!isRequestType(type)) {
      reply(out, id, { code: "bad_request", message: `unknown message type ${type}` });
      return;
    }
    // A request with a written-out check (consume's RTP capabilities) skips the schema walk when it passes;
    // anything that check refuses gets the schema's verdict and its precise error.
    let input = FAST_PARSE[type]?.(envelope.data ?? {});
    if (input === undefined) {
      const parsed = v.safeParse(REQUESTS[type].data, envelope.data ?? {});
      if (!parsed.success) {
        const issue = parsed.issues[0];
        const where = issue ? (v.getDotPath(issue) ?? "data") : "data";
        reply(out, id, {
          code: "validation_failed",
          message: `${type}: ${where}: ${issue?.message ?? "invalid"}`,
        });
        return;
      }
      input = parsed.output;
    }
    try {
      const handler = options.handlers[type] as (ctx: HandlerContext, data: unknown) => unknown;
      const result = await handler(options.context(session), input);
      out(JSON.stringify({ id, success: true, data: result }));
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code === "internal") logger.error({ err: error, type }, "handler failed");
      reply(out, id, errorBody(appError.code, appError.message));
    }
  };
}

export function reply(out: Reply, id: MessageId | null, error: { code: ErrorCode; message: string }): void {
  out(JSON.stringify({ id, success: false, error }));
}

export const errorBody = (code: ErrorCode, message: string) => ({ code, message });

export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  // mediasoup reports bad client input (wrong ids, unsupported parameters) as TypeError/UnsupportedError.
  if (error instanceof TypeError || (error as Error)?.name === "UnsupportedError") {
    return new AppError("bad_request", (error as Error).message);
  }
  // A request whose data nests deeper than copying it can go (mediasoup deep-copies what it is given; the
  // 64 KB message limit allows about 13,000 levels) is the client's fault, not ours.
  if (error instanceof RangeError && error.message.includes("call stack")) {
    return new AppError("bad_request", "the message nests too deeply");
  }
  return new AppError("internal", "internal error");
}

/** Best effort: the id of a message we refuse without parsing it fully. */
export function idOf(raw: unknown): MessageId | null {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (typeof value !== "object" || value === null || !("id" in value)) return null;
  return isMessageId(value.id) ? value.id : null;
}
