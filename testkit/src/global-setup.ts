import type { TestProject } from "vitest/node";
import { TEST_PG_URL_ENV, TEST_REDIS_URL_ENV, usePostgresUrl, useRedisUrl } from "./env.js";

declare module "vitest" {
  export interface ProvidedContext {
    pgUrl: string;
    redisUrl: string;
  }
}

/**
 * vitest globalSetup: one PostgreSQL and one Redis for the whole run (or the ones named by the environment),
 * handed to workers both through provide()/inject() and through the environment, which workers inherit.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [pgServer, redisServer] = await Promise.all([usePostgresUrl(), useRedisUrl()]);
  project.provide("pgUrl", pgServer.url);
  project.provide("redisUrl", redisServer.url);
  const previous = { pg: process.env[TEST_PG_URL_ENV], redis: process.env[TEST_REDIS_URL_ENV] };
  process.env[TEST_PG_URL_ENV] = pgServer.url;
  process.env[TEST_REDIS_URL_ENV] = redisServer.url;
  return async () => {
    await Promise.all([pgServer.stop(), redisServer.stop()]);
    if (previous.pg === undefined) delete process.env[TEST_PG_URL_ENV];
    else process.env[TEST_PG_URL_ENV] = previous.pg;
    if (previous.redis === undefined) delete process.env[TEST_REDIS_URL_ENV];
    else process.env[TEST_REDIS_URL_ENV] = previous.redis;
  };
}
