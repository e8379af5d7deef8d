export { loadMediaConfig, type MediaConfig } from "./config.js";
export { createMediaHost, type MediaHost, type MediaHostDeps } from "./host.js";
