import type { MeetingSession } from "./session.js";

// The page's hook for end-to-end tests and benchmarks, declared apart from main.ts so that code outside
// web/ (bench/) that drives the page through playwright type-checks against the same shape.
declare global {
  interface Window {
    /** The live session and its decoded-frame counters. */
    __nexus: {
      session(): MeetingSession | null;
      stats(): ReturnType<MeetingSession["stats"]> | Promise<[]>;
    };
  }
}
