import { type RunningServer, startPostgres } from "./postgres.js";
import { startRedis } from "./redis.js";

/** Names under which the global setup hands the server URLs to test workers. */
export const TEST_PG_URL_ENV = "NEXUS_TEST_PG_URL";
export const TEST_REDIS_URL_ENV = "NEXUS_TEST_REDIS_URL";

const isPostgresUrl = (url: string | undefined): url is string => !!url && /^postgres(ql)?:\/\//.test(url);

/**
 * A PostgreSQL server URL: one already handed to this run (NEXUS_TEST_PG_URL), else DATABASE_URL when it
 * names a PostgreSQL server, else a fresh server of our own. stop() only stops what this call started.
 */
export async function usePostgresUrl(env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const given = env[TEST_PG_URL_ENV] ?? (isPostgresUrl(env.DATABASE_URL) ? env.DATABASE_URL : undefined);
  if (given) return { url: given, stop: async () => {} };
  return startPostgres();
}

/** Same for Redis: NEXUS_TEST_REDIS_URL, else REDIS_URL, else a fresh redis-server. */
export async function useRedisUrl(env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const given = env[TEST_REDIS_URL_ENV] ?? env.REDIS_URL;
  if (given) return { url: given, stop: async () => {} };
  return startRedis();
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: add globalSetup: ["@nexus/testkit/global-setup"] to this package's vitest.config.ts ` +
        "(see testkit/README.md)",
    );
  }
  return value;
}

/** The run's PostgreSQL server URL (database `postgres`); use createTestDatabase() for a database of your own. */
export const testPgUrl = (): string => required(TEST_PG_URL_ENV);
/** The run's Redis URL. Tests sharing it should namespace their keys and channels. */
export const testRedisUrl = (): string => required(TEST_REDIS_URL_ENV);
