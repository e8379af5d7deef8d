export { type AppType, createApp } from "./app.js";
export { createUserVerifier, type UserVerifier } from "./auth.js";
export { type ComposeOptions, type ControlRuntime, createControlDeps } from "./compose.js";
export { ConfigError, type ControlConfig, DEV_JWT_SECRET, loadControlConfig } from "./config.js";
export type { AppEnv, ControlDeps, JoinSigner } from "./deps.js";
export { createMetrics } from "./metrics.js";
