import { randomBytes } from "node:crypto";
import { createDb, type Database } from "@nexus/drizzle";
import pg from "pg";

export interface TestDatabase {
  /** postgres:// URL of the fresh, migrated database. */
  url: string;
  /** createDb(url) result, already migrated; closed by drop(). */
  database: Database;
  /** Closes the pool and drops the database; idempotent. */
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(serverUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * A database of its own for one test file, migrated with the committed Drizzle migrations, so files can
 * run in parallel against one server without seeing each other's rows.
 */
export async function createTestDatabase(
  serverUrl: string,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const name = `nexus_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await admin(serverUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = withDatabase(serverUrl, name);
  const database = createDb(url, { max: 5 });
  let dropped: Promise<void> | null = null;
  const drop = () => {
    dropped ??= (async () => {
      await database.close().catch(() => {});
      // FORCE: a test that leaked a connection must not keep its database alive.
      await admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    })();
    return dropped;
  };
  if (options.migrate ?? true) {
    try {
      await database.migrate();
    } catch (err) {
      await drop().catch(() => {});
      throw err;
    }
  }
  return { url, database, drop };
}
