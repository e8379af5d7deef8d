import { MemoryBus, MemoryHostRegistry, silentLogger } from "@nexus/platform";
import { mintTurnCredential } from "@nexus/platform/turn-credentials";
import { freePort, type RunningTurnServer, startTurnServer } from "@nexus/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMediaConfig } from "../src/config.js";
import { createMediaHost } from "../src/host.js";
import { eventually, type HostFixture, SECRET, startHostFixture } from "./support/host-fixture.js";
import { Participant } from "./support/participant.js";

const TURN_SECRET = "ice-paths-turn-secret-0123456789ab";

/**
 * A host in the single-port mode (MEDIASOUP_WEBRTC_PORT) and a coturn beside it: a direct participant and
 * one allowed nothing but TURN relay candidates (UDP and TCP to coturn) all decode each other.
 */
describe("ICE paths to a single-port media host", () => {
  let fx: HostFixture;
  let turn: RunningTurnServer;
  let port: number;
  const people: Participant[] = [];

  beforeAll(async () => {
    port = await freePort();
    turn = await startTurnServer({ secret: TURN_SECRET });
    fx = await startHostFixture({ env: { MEDIASOUP_WEBRTC_PORT: String(port) } });
  });
  afterAll(async () => {
    for (const p of people) p.close();
    await fx?.close();
    await turn?.stop();
  });

  async function join(meetingId: string, relay?: "udp" | "tcp"): Promise<Participant> {
    const p = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    people.push(p);
    if (relay) {
      const { username, credential } = mintTurnCredential(TURN_SECRET, p.id, 600, new Date());
      p.iceServers = [{ urls: `turn:${turn.host}:${turn.port}?transport=${relay}`, username, credential }];
      p.iceTransportPolicy = "relay";
    }
    await p.createTransports();
    return p;
  }

  it("offers one UDP and one TCP candidate, both on MEDIASOUP_WEBRTC_PORT", async () => {
    const meetingId = await fx.createMeeting();
    const p = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    people.push(p);
    const ack = await p.client.request("create-transport", { direction: "send" });
    const candidates = ack.ice_candidates as { protocol: string; port: number }[];
    expect(candidates.map((c) => [c.protocol, c.port]).sort()).toEqual([
      ["tcp", port],
      ["udp", port],
    ]);
    expect(fx.host.pool.liveSlots).toHaveLength(1);
  });

  it("a direct participant and relay-only ones (TURN over UDP and over TCP) decode each other", async () => {
    const meetingId = await fx.createMeeting();
    const direct = await join(meetingId);
    const viaUdp = await join(meetingId, "udp");
    const viaTcp = await join(meetingId, "tcp");
    const all = [direct, viaUdp, viaTcp];
    for (const p of all) {
      await p.produceCamera();
      await p.consumeAll();
    }
    for (const viewer of all) {
      for (const sender of all) {
        if (sender === viewer) continue;
        const video = sender.producers.get("camera")!;
        await eventually(`${viewer.id} decodes ${sender.id}'s video`, async () => {
          await viewer.consume(video.id);
          return (await viewer.inbound(video.id)).framesDecoded > 0;
        });
      }
    }
    for (const direction of ["send", "recv"] as const) {
      expect(await direct.selectedPair(direction)).toMatchObject({ localType: "host", remotePort: port });
      expect(await viaUdp.selectedPair(direction)).toMatchObject({
        localType: "relay",
        relayProtocol: "udp",
      });
      expect(await viaTcp.selectedPair(direction)).toMatchObject({
        localType: "relay",
        relayProtocol: "tcp",
      });
    }
  });

  it("is logged by a production host that announces a loopback address", async () => {
    const warnings: string[] = [];
    const logger = silentLogger();
    const child = logger.child.bind(logger);
    logger.child = ((bindings: Record<string, unknown>) => {
      const c = child(bindings);
      c.warn = ((msg: unknown) => {
        warnings.push(String(msg));
      }) as typeof c.warn;
      return c;
    }) as unknown as typeof logger.child;
    const config = loadMediaConfig({
      NODE_ENV: "production",
      JOIN_TOKEN_SECRET: SECRET,
      MEDIA_BIND: "127.0.0.1",
      MEDIA_PORT: "0",
      MEDIASOUP_LISTEN_IP: "127.0.0.1",
      MEDIASOUP_WEBRTC_PORT: String(await freePort()),
      LOG_LEVEL: "silent",
    });
    const host = await createMediaHost({
      config,
      db: fx.db,
      bus: new MemoryBus(),
      registry: new MemoryHostRegistry(),
      logger,
    });
    await host.close();
    expect(warnings.some((w) => w.includes("127.0.0.1, a loopback or private address"))).toBe(true);
  });
});
