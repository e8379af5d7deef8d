import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import * as schema from "./schema/index.js";

export * from "./schema/index.js";
export { schema };

/** Either driver behind one type: handlers never know whether they talk to PostgreSQL or PGlite. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: "postgres" | "pglite";
  /** Applies the committed SQL migrations (idempotent). */
  migrate(): Promise<void>;
  /** Cheap round trip used by /health. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));

export interface CreateDbOptions {
  /** Pool size for PostgreSQL. */
  max?: number;
}

/**
 * postgres:// or postgresql:// URLs get a pg Pool; anything else is a PGlite data directory
 * ("memory://" for a throwaway in-memory database).
 */
export function createDb(url: string, options: CreateDbOptions = {}): Database {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
    // An idle client that loses its server must not crash the process; the next query reports the error.
    pool.on("error", () => {});
    const db = drizzlePg(pool, { schema }) as unknown as Db;
    return {
      db,
      kind: "postgres",
      migrate: () => migratePg(drizzlePg(pool), { migrationsFolder: MIGRATIONS_DIR }),
      ping: async () => {
        await pool.query("select 1");
      },
      close: () => pool.end(),
    };
  }
  const client = new PGlite(url === "memory://" ? undefined : url.replace(/^file:\/\//, ""));
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  let closed = false;
  return {
    db,
    kind: "pglite",
    migrate: () => migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_DIR }),
    ping: async () => {
      await client.query("select 1");
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}

export interface DbEnv {
  DATABASE_URL?: string | undefined;
  DB_HOST?: string | undefined;
  DB_PORT?: string | undefined;
  DB_NAME?: string | undefined;
  DB_USER?: string | undefined;
  DB_PASSWORD?: string | undefined;
  DATA_DIR?: string | undefined;
}

/** DATABASE_URL wins; else DB_HOST & co. build a postgres URL; else the embedded PGlite directory. */
export function databaseUrlFromEnv(env: DbEnv): string {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  if (env.DB_HOST) {
    const user = encodeURIComponent(env.DB_USER ?? "postgres");
    const password = env.DB_PASSWORD ? `:${encodeURIComponent(env.DB_PASSWORD)}` : "";
    return `postgres://${user}${password}@${env.DB_HOST}:${env.DB_PORT ?? "5432"}/${env.DB_NAME ?? "nexus_meet"}`;
  }
  return `${env.DATA_DIR ?? "data"}/pglite`;
}
