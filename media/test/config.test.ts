import { describe, expect, it } from "vitest";
import { loadMediaConfig } from "../src/config.js";

const base = { JOIN_TOKEN_SECRET: "a-secret-of-sixteen+", MEDIA_NUM_WORKERS: "1" };

describe("media host configuration", () => {
  it("refuses a join secret shorter than 32 characters in production, as control does", () => {
    expect(() => loadMediaConfig({ ...base, NODE_ENV: "production" })).toThrow(/at least 32 characters/);
    const long = "x".repeat(32);
    expect(loadMediaConfig({ ...base, NODE_ENV: "production", JOIN_TOKEN_SECRET: long }).nodeEnv).toBe(
      "production",
    );
    expect(loadMediaConfig(base).nodeEnv).toBe("development");
  });

  it("reads LOG_DIR=- (or empty) as stdout only", () => {
    expect(loadMediaConfig({ ...base, LOG_DIR: "-" }).logDir).toBeNull();
    expect(loadMediaConfig({ ...base, LOG_DIR: "" }).logDir).toBeNull();
    expect(loadMediaConfig(base).logDir).toBe("logs");
    expect(loadMediaConfig({ ...base, LOG_DIR: "/var/log/nexus" }).logDir).toBe("/var/log/nexus");
  });

  it("checks MEDIA_DRAIN_MS with the schema, naming the variable", () => {
    expect(loadMediaConfig(base).drainMs).toBe(30_000);
    expect(loadMediaConfig({ ...base, MEDIA_DRAIN_MS: "5000" }).drainMs).toBe(5000);
    expect(() => loadMediaConfig({ ...base, MEDIA_DRAIN_MS: "soon" })).toThrow(/MEDIA_DRAIN_MS/);
    expect(() => loadMediaConfig({ ...base, MEDIA_DRAIN_MS: "-1" })).toThrow(/MEDIA_DRAIN_MS/);
  });

  it("checks the per-participant caps with the schema, with sensible defaults", () => {
    expect(loadMediaConfig(base).peerLimits).toEqual({
      peersPerUser: 2,
      transports: 4,
      producers: 8,
      consumers: 1000,
      consumersPerProducer: 2,
    });
    expect(loadMediaConfig({ ...base, MEDIA_MAX_TRANSPORTS_PER_PEER: "6" }).peerLimits.transports).toBe(6);
    // A client needs a send and a receive transport: fewer than two cannot work.
    expect(() => loadMediaConfig({ ...base, MEDIA_MAX_TRANSPORTS_PER_PEER: "1" })).toThrow(
      /MEDIA_MAX_TRANSPORTS_PER_PEER/,
    );
    expect(() => loadMediaConfig({ ...base, MEDIA_MAX_PEERS_PER_USER: "0" })).toThrow(
      /MEDIA_MAX_PEERS_PER_USER/,
    );
    expect(() => loadMediaConfig({ ...base, MEDIA_MAX_CONSUMERS_PER_PRODUCER: "many" })).toThrow(
      /MEDIA_MAX_CONSUMERS_PER_PRODUCER/,
    );
  });
});
