import type { Db } from "@nexus/drizzle";
import type { SQL } from "drizzle-orm";

/**
 * A statement of our own SQL, prepared once: drizzle turns it into text once here (not per call), and
 * PostgreSQL parses it once per connection (a named statement). Values go in through sql.placeholder
 * names. drizzle has no public call for "prepare this raw SQL", so this does what db.execute does, with a
 * name; both drivers (node-postgres, PGlite) have this session/dialect pair.
 */
export function prepareSql(
  db: Db,
  name: string,
  query: SQL,
): { execute(values: Record<string, unknown>): Promise<unknown> } {
  const internal = db as unknown as {
    dialect: { sqlToQuery(query: SQL): unknown };
    session: {
      prepareQuery(
        query: unknown,
        fields: undefined,
        name: string,
        arrayMode: boolean,
      ): { execute(values: Record<string, unknown>): Promise<unknown> };
    };
  };
  return internal.session.prepareQuery(internal.dialect.sqlToQuery(query), undefined, name, false);
}
