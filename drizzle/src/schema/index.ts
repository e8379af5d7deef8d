export * from "./chat-messages.js";
export * from "./meeting-stats.js";
export * from "./meeting-tombstones.js";
export * from "./meetings.js";
export * from "./participants.js";
export * from "./password-attempts.js";
export * from "./recordings.js";
export * from "./webhooks.js";
