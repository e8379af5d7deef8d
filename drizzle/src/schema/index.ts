export * from "./chat-messages.js";
export * from "./meeting-stats.js";
export * from "./meetings.js";
export * from "./participants.js";
export * from "./password-throttle.js";
export * from "./recordings.js";
