export { waitFor } from "./child.js";
export { type RunningTurnServer, startTurnServer, type TurnServerOptions } from "./coturn.js";
export { createTestDatabase, type TestDatabase } from "./database.js";
export {
  TEST_PG_URL_ENV,
  TEST_REDIS_URL_ENV,
  testPgUrl,
  testRedisUrl,
  usePostgresUrl,
  useRedisUrl,
} from "./env.js";
export { createNetns, type NetworkNamespace } from "./netns.js";
export { freePort, freeRtcPorts } from "./ports.js";
export { postgresBinDir, type RunningServer, startPostgres } from "./postgres.js";
export { startRedis } from "./redis.js";
export { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";
