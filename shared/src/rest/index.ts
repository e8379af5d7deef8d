export * from "./common.js";
export * from "./health.js";
export * from "./join.js";
export * from "./meetings.js";
export * from "./messages.js";
export * from "./participants.js";
export * from "./recordings.js";
export * from "./stats.js";
