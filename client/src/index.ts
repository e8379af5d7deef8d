export * from "./backoff.js";
export * from "./media-link.js";
export * from "./meeting-client.js";
export * from "./rest.js";
export * from "./wire.js";
