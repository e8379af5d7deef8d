import type { IncomingMessage } from "node:http";
import { type Db, passwordThrottle } from "@nexus/drizzle";
import { AppError } from "@nexus/shared/errors";
import { and, eq, sql } from "drizzle-orm";
import type { Context } from "hono";

/**
 * Guessing a meeting password: five attempts per user and twenty per source address per window, the window
 * five minutes, doubled after each window that ended over its allowance (up to 2^6: 5 h 20). There is no
 * per-meeting count: one member's guesses (or a crowd of accounts) must not lock anyone else out.
 */
export const PASSWORD_THROTTLE = { windowMs: 5 * 60_000, perUser: 5, perAddress: 20, maxStrikes: 6 } as const;

export class ThrottledError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super("rate_limited", "too many wrong passwords, try again later");
  }
}

export interface ThrottleKey {
  tenantId: string;
  meetingId: string;
  userId: string;
  /** The client's source address; null when the runtime does not tell (then only the user is counted). */
  address: string | null;
}

/**
 * The TCP peer on @hono/node-server, the caller's IP on API Gateway (v1 and v2). Forwarding headers are not
 * read: anyone can send them.
 */
export function clientAddress(c: Context): string | null {
  const env = c.env as
    | {
        incoming?: IncomingMessage;
        event?: { requestContext?: { http?: { sourceIp?: string }; identity?: { sourceIp?: string } } };
      }
    | undefined;
  const address =
    env?.incoming?.socket?.remoteAddress ??
    env?.event?.requestContext?.http?.sourceIp ??
    env?.event?.requestContext?.identity?.sourceIp;
  return typeof address === "string" && address !== "" ? address : null;
}

const subjects = (key: ThrottleKey) => {
  const list: { subject: string; allowance: number }[] = [
    { subject: `user:${key.userId}`, allowance: PASSWORD_THROTTLE.perUser },
  ];
  if (key.address) list.push({ subject: `addr:${key.address}`, allowance: PASSWORD_THROTTLE.perAddress });
  return list;
};

const windowMs = (strikes: number) =>
  PASSWORD_THROTTLE.windowMs * 2 ** Math.min(strikes, PASSWORD_THROTTLE.maxStrikes);

/**
 * Counts one attempt for the user and the address before the password is checked, in one statement: the
 * upsert locks each counter row, so parallel guesses see distinct counts and only the allowance of them is
 * ever verified. Throws ThrottledError (with the seconds until the window ends) when either is over.
 */
export async function takePasswordAttempt(db: Db, key: ThrottleKey, now: Date): Promise<void> {
  const t = passwordThrottle;
  // Judged on the row as it was (every SET expression reads the old values).
  const windowEnds = sql`${t.windowStartedAt} + make_interval(secs => ${PASSWORD_THROTTLE.windowMs / 1000}::float8 * power(2, least(${t.strikes}, ${PASSWORD_THROTTLE.maxStrikes})))`;
  const expired = sql`(${windowEnds} <= ${now.toISOString()}::timestamptz)`;
  const rows = await db
    .insert(t)
    .values(
      subjects(key).map((s) => ({
        tenantId: key.tenantId,
        meetingId: key.meetingId,
        subject: s.subject,
        attempts: 1,
        allowance: s.allowance,
        strikes: 0,
        windowStartedAt: now,
      })),
    )
    .onConflictDoUpdate({
      target: [t.tenantId, t.meetingId, t.subject],
      set: {
        attempts: sql`CASE WHEN ${expired} THEN 1 ELSE ${t.attempts} + 1 END`,
        windowStartedAt: sql`CASE WHEN ${expired} THEN excluded.window_started_at ELSE ${t.windowStartedAt} END`,
        strikes: sql`CASE WHEN ${expired} AND ${t.attempts} > ${t.allowance} THEN least(${t.strikes} + 1, ${PASSWORD_THROTTLE.maxStrikes}) ELSE ${t.strikes} END`,
        allowance: sql`excluded.allowance`,
      },
    })
    .returning({
      attempts: t.attempts,
      allowance: t.allowance,
      strikes: t.strikes,
      windowStartedAt: t.windowStartedAt,
    });
  let opensAt = 0;
  for (const row of rows) {
    if (row.attempts <= row.allowance) continue;
    opensAt = Math.max(opensAt, row.windowStartedAt.getTime() + windowMs(row.strikes));
  }
  if (opensAt > 0) throw new ThrottledError(Math.max(1, Math.ceil((opensAt - now.getTime()) / 1000)));
}

/**
 * The right password: the user's slate is wiped (strikes too), and the address gets its attempt back (a
 * shared office address is not used up by its people getting in).
 */
export async function passwordAccepted(db: Db, key: ThrottleKey): Promise<void> {
  const t = passwordThrottle;
  const mine = and(eq(t.tenantId, key.tenantId), eq(t.meetingId, key.meetingId));
  await db.delete(t).where(and(mine, eq(t.subject, `user:${key.userId}`)));
  if (key.address) {
    await db
      .update(t)
      .set({ attempts: sql`greatest(${t.attempts} - 1, 0)` })
      .where(and(mine, eq(t.subject, `addr:${key.address}`)));
  }
}
