export * from "./bus.js";
export * from "./factory.js";
export * from "./logger.js";
export * from "./memory-bus.js";
export * from "./metrics.js";
export * from "./redis-bus.js";
export * from "./redis-connection.js";
export * from "./redis-host-registry.js";
