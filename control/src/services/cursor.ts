import { AppError } from "@nexus/shared/errors";
import { isUuid } from "@nexus/shared/ids";
import { isStorableDate } from "@nexus/shared/text";
import { type AnyColumn, type SQL, sql } from "drizzle-orm";

/** Keyset position (timestamp, id): opaque to clients, stable under inserts, no OFFSET scans. */
export interface Position {
  at: Date;
  id: string;
}

export const encodeCursor = (p: Position): string =>
  Buffer.from(JSON.stringify([p.at.toISOString(), p.id])).toString("base64url");

export function decodeCursor(cursor: string): Position {
  const bad = () =>
    new AppError("validation_failed", "invalid cursor", [{ path: "cursor", message: "invalid cursor" }]);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  if (!Array.isArray(raw) || raw.length !== 2 || typeof raw[0] !== "string" || typeof raw[1] !== "string") {
    throw bad();
  }
  const at = new Date(raw[0]);
  if (!isStorableDate(at) || !isUuid(raw[1])) throw bad();
  return { at, id: raw[1] };
}

export const DEFAULT_PAGE_SIZE = 20;

/**
 * Rows written by others carry microsecond timestamps, while a cursor holds milliseconds (a JS Date).
 * Comparing and ordering on the millisecond-truncated value keeps pages free of repeats and gaps.
 */
export const msOf = (col: AnyColumn): SQL => sql`date_trunc('milliseconds', ${col})`;

/** Rows strictly past `pos` in the (timestamp, id) order, descending or ascending. */
export const pastCursor = (at: AnyColumn, id: AnyColumn, pos: Position, direction: "asc" | "desc"): SQL =>
  pastCursorSql(at, id, sql`${pos.at.toISOString()}::timestamptz`, pos.id, direction);

/** pastCursor with the position given as SQL values (e.g. placeholders of a prepared statement). */
export function pastCursorSql(
  at: AnyColumn,
  id: AnyColumn,
  posAt: SQL,
  posId: unknown,
  direction: "asc" | "desc",
): SQL {
  return direction === "desc"
    ? sql`(${msOf(at)}, ${id}) < (${posAt}, ${posId}::uuid)`
    : sql`(${msOf(at)}, ${id}) > (${posAt}, ${posId}::uuid)`;
}

export const keysetOrder = (at: AnyColumn, id: AnyColumn, direction: "asc" | "desc"): SQL[] =>
  direction === "desc" ? [sql`${msOf(at)} desc`, sql`${id} desc`] : [sql`${msOf(at)} asc`, sql`${id} asc`];

/**
 * Queries fetch limit + 1 rows: the extra row only says whether another page exists. Returns the page and
 * the cursor of its last row when there is more.
 */
export function pageOf<T extends { id: string }>(
  rows: T[],
  limit: number,
  at: (row: T) => Date,
): { page: T[]; next_cursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    page,
    next_cursor: rows.length > limit && last ? encodeCursor({ at: at(last), id: last.id }) : null,
  };
}
