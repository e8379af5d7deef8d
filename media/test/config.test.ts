import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadMediaConfig } from "../src/config.js";
import { announcedAddressWarning, defaultRouteAddress, isNonPublicAddress } from "../src/sfu/announced-ip.js";

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

describe("media ports and the announced address", () => {
  it("MEDIASOUP_WEBRTC_PORT: one worker on one port; a second worker is refused, naming the fix", () => {
    const c = loadMediaConfig({ JOIN_TOKEN_SECRET: base.JOIN_TOKEN_SECRET, MEDIASOUP_WEBRTC_PORT: "3479" });
    expect(c).toMatchObject({ webRtcPort: 3479, numWorkers: 1 });
    expect(loadMediaConfig(base).webRtcPort).toBeNull();
    expect(() => loadMediaConfig({ ...base, MEDIA_NUM_WORKERS: "2", MEDIASOUP_WEBRTC_PORT: "3479" })).toThrow(
      /one media host per core/,
    );
    expect(() => loadMediaConfig({ ...base, MEDIASOUP_WEBRTC_PORT: "70000" })).toThrow(
      /MEDIASOUP_WEBRTC_PORT/,
    );
    // The port range is not consulted in that mode.
    expect(
      loadMediaConfig({ ...base, RTC_MIN_PORT: "5000", RTC_MAX_PORT: "4000", MEDIASOUP_WEBRTC_PORT: "3479" })
        .webRtcPort,
    ).toBe(3479);
  });

  it("MEDIASOUP_ANNOUNCED_IP=auto is the address of the default route's interface", () => {
    const auto = defaultRouteAddress();
    if (auto === null) {
      expect(() => loadMediaConfig({ ...base, MEDIASOUP_ANNOUNCED_IP: "auto" })).toThrow(/default route/);
    } else {
      expect(loadMediaConfig({ ...base, MEDIASOUP_ANNOUNCED_IP: "auto" }).announcedIp).toBe(auto);
      const iface = Object.values(networkInterfaces())
        .flat()
        .find((a) => a?.address === auto);
      expect(iface?.internal).toBe(false);
    }
    expect(loadMediaConfig({ ...base, MEDIASOUP_ANNOUNCED_IP: "203.0.113.7" }).announcedIp).toBe(
      "203.0.113.7",
    );
  });

  it("reads the default route from the routing table, lowest metric first", () => {
    const dir = mkdtempSync(join(tmpdir(), "route-"));
    const table = join(dir, "route");
    const lo = Object.entries(networkInterfaces()).find(([, list]) => list?.some((a) => !a.internal));
    writeFileSync(
      table,
      [
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT",
        `nosuch0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0`,
        ...(lo ? [`${lo[0]}\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0`] : []),
      ].join("\n"),
    );
    const expected = lo?.[1]?.find((a) => a.family === "IPv4" && !a.internal)?.address ?? null;
    expect(defaultRouteAddress(table)).toBe(expected);
    expect(defaultRouteAddress(join(dir, "missing"))).toBeNull();
    rmSync(dir, { recursive: true, force: true });
  });

  it("knows which addresses the internet cannot reach", () => {
    for (const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "172.20.0.5",
      "192.168.1.10",
      "100.64.0.1",
      "169.254.1.1",
      "0.0.0.0",
      "::1",
      "fd00::1",
      "fe80::1",
    ])
      expect(isNonPublicAddress(ip), ip).toBe(true);
    for (const ip of ["203.0.113.7", "8.8.8.8", "172.32.0.1", "2001:db8::1"])
      expect(isNonPublicAddress(ip), ip).toBe(false);
  });

  it("warns only in production, only for an address the internet cannot reach", () => {
    const at = (nodeEnv: string, announcedIp: string | undefined, listenIp = "0.0.0.0") =>
      announcedAddressWarning({ nodeEnv, announcedIp, listenIp });
    expect(at("production", undefined, "127.0.0.1")).toMatch(/127\.0\.0\.1, a loopback or private address/);
    expect(at("production", "10.0.0.5")).toMatch(/MEDIASOUP_ANNOUNCED_IP/);
    expect(at("production", undefined)).toMatch(/0\.0\.0\.0/);
    expect(at("production", "203.0.113.7")).toBeNull();
    expect(at("development", "10.0.0.5")).toBeNull();
  });
});
