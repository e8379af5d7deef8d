import { randomUUID } from "node:crypto";
import { type Db, passwordAttempts } from "@nexus/drizzle";
import { AppError } from "@nexus/shared/errors";
import { and, count, eq, gt, min } from "drizzle-orm";

/** Five wrong guesses by one user, or twenty by everyone, within five minutes close the door for a while. */
export const PASSWORD_THROTTLE = { windowMs: 5 * 60_000, perUser: 5, perMeeting: 20 } as const;

export class ThrottledError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super("rate_limited", "too many wrong passwords, try again later");
  }
}

interface Key {
  tenantId: string;
  meetingId: string;
  userId: string;
}

/** Refuses before the password is even checked, so guessing cannot go on past the limit. */
export async function assertNotThrottled(db: Db, key: Key, now: Date): Promise<void> {
  const since = new Date(now.getTime() - PASSWORD_THROTTLE.windowMs);
  const inWindow = and(
    eq(passwordAttempts.tenantId, key.tenantId),
    eq(passwordAttempts.meetingId, key.meetingId),
    gt(passwordAttempts.failedAt, since),
  );
  const [[mine], [all]] = await Promise.all([
    db
      .select({ n: count(), oldest: min(passwordAttempts.failedAt) })
      .from(passwordAttempts)
      .where(and(inWindow, eq(passwordAttempts.userId, key.userId))),
    db
      .select({ n: count(), oldest: min(passwordAttempts.failedAt) })
      .from(passwordAttempts)
      .where(inWindow),
  ]);
  const over = [
    mine && mine.n >= PASSWORD_THROTTLE.perUser ? mine.oldest : null,
    all && all.n >= PASSWORD_THROTTLE.perMeeting ? all.oldest : null,
  ].filter((d): d is Date => d instanceof Date);
  if (over.length === 0) return;
  // The door opens again when the oldest failure counted leaves the window.
  const opensAt = Math.max(...over.map((d) => d.getTime() + PASSWORD_THROTTLE.windowMs));
  throw new ThrottledError(Math.max(1, Math.ceil((opensAt - now.getTime()) / 1000)));
}

export async function recordWrongPassword(db: Db, key: Key, now: Date): Promise<void> {
  await db.insert(passwordAttempts).values({ id: randomUUID(), ...key, failedAt: now });
}

/** The right password wipes that user's slate for the meeting. */
export async function clearWrongPasswords(db: Db, key: Key): Promise<void> {
  await db
    .delete(passwordAttempts)
    .where(
      and(
        eq(passwordAttempts.tenantId, key.tenantId),
        eq(passwordAttempts.meetingId, key.meetingId),
        eq(passwordAttempts.userId, key.userId),
      ),
    );
}
