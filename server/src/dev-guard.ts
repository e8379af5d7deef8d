import type { IncomingMessage } from "node:http";
import { AppError } from "@nexus/shared/errors";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

/** The development sign-in's body is a handful of short strings; anything bigger is not one. */
export const DEV_TOKEN_BODY_LIMIT = 4096;

/** 127.0.0.0/8, ::1 and their IPv4-mapped IPv6 spellings. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === "::1";
}

/** Headers a reverse proxy adds: behind one, every visitor looks like loopback, so they disqualify. */
const FORWARDED = ["forwarded", "x-forwarded-for", "x-real-ip", "via"];

/**
 * Whether a request reaches the development sign-in: a TCP client on this machine, not relayed by a proxy.
 * Without a socket (a fetch handed straight to the app) there is no peer to judge, so it is refused.
 */
export function isLocalClient(c: Context): boolean {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!isLoopbackAddress(incoming?.socket?.remoteAddress)) return false;
  return !FORWARDED.some((name) => c.req.header(name) !== undefined);
}

const refusal = (c: Context, err: AppError) =>
  c.json({ error: { code: err.code, message: err.message } }, err.status as 403);

/**
 * In front of /dev/token: another machine (or anyone through a proxy) gets 403 before the body is read, and
 * a local body over DEV_TOKEN_BODY_LIMIT gets 413.
 */
export function devSignInGuard(): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: DEV_TOKEN_BODY_LIMIT,
    onError: (c) =>
      refusal(c, new AppError("payload_too_large", `request body over ${DEV_TOKEN_BODY_LIMIT} bytes`)),
  });
  return async (c, next) => {
    if (!isLocalClient(c)) {
      return refusal(
        c,
        new AppError("forbidden", "the development sign-in answers only clients on this machine"),
      );
    }
    return limit(c, next);
  };
}
