export * from "./bus.js";
export * from "./logger.js";
export * from "./memory-bus.js";
