import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { mintTurnCredential } from "@nexus/platform/turn-credentials";
import {
  createNetns,
  freePort,
  type NetworkNamespace,
  type RunningTurnServer,
  startTurnServer,
} from "@nexus/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { Participant } from "./support/participant.js";

const TURN_SECRET = "relay-netns-turn-secret-0123456789";

interface Report {
  id: string;
  camera?: string;
  send: { localType: string; relayProtocol?: string } | null;
  recv: { localType: string; relayProtocol?: string } | null;
  decoded: Record<string, number>;
}

/**
 * A participant in a network namespace where every UDP packet and TCP to the media port are dropped
 * (nftables): only TCP to signaling and to coturn get through. Offered TURN over UDP and over TCP with the
 * ICE policy "all", it ends up on a relay candidate over TCP and still sees and is seen.
 */
describe("a participant whose network drops UDP and TCP to the media host", () => {
  let ns: NetworkNamespace;
  let turn: RunningTurnServer;
  let fx: HostFixture;
  let child: ChildProcess | null = null;
  let last: Report | null = null;
  let output = "";
  let direct: Participant | null = null;

  beforeAll(async () => {
    const webRtcPort = await freePort();
    ns = createNetns(["meta l4proto udp drop", `tcp dport ${webRtcPort} drop`]);
    turn = await startTurnServer({ secret: TURN_SECRET, listeningIp: ns.hostAddress });
    fx = await startHostFixture({
      env: {
        MEDIA_BIND: "0.0.0.0",
        MEDIASOUP_LISTEN_IP: "0.0.0.0",
        MEDIASOUP_ANNOUNCED_IP: ns.hostAddress,
        MEDIASOUP_WEBRTC_PORT: String(webRtcPort),
      },
    });
  });
  afterAll(async () => {
    child?.kill("SIGTERM");
    direct?.close();
    await fx?.close();
    await turn?.stop();
    ns?.remove();
  });

  it("joins through TURN over TCP (a relay candidate pair) and the two decode each other", async () => {
    const meetingId = await fx.createMeeting();
    direct = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    await direct.createTransports();
    await direct.produceCamera();
    await direct.consumeAll();

    const participantId = crypto.randomUUID();
    const { username, credential } = mintTurnCredential(TURN_SECRET, participantId, 600, new Date());
    const turnAt = `${turn.host}:${turn.port}`;
    const ice = [
      { urls: [`turn:${turnAt}?transport=udp`, `turn:${turnAt}?transport=tcp`], username, credential },
    ];
    const token = await fx.token(meetingId, { participant_id: participantId });
    const signaling = `ws://${ns.hostAddress}:${fx.host.port}/?token=${token}`;
    child = spawn(
      ns.exec[0]!,
      [...ns.exec.slice(1), process.execPath, "--import", "tsx", "test/support/netns-participant.ts"],
      {
        cwd: new URL("..", import.meta.url).pathname,
        env: { ...process.env, NX_URL: signaling, NX_ICE: JSON.stringify(ice) },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    child.stderr?.on("data", (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        last = JSON.parse(line) as Report;
      } catch {
        output = (output + line).slice(-4000);
      }
    });

    const cameraOfDirect = direct.producers.get("camera")!.id;
    const seen = await eventually(
      "the namespaced participant decodes the direct one",
      () => ((last?.decoded[cameraOfDirect] ?? 0) > 0 ? last : undefined),
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nchild said: ${output}\nlast report: ${JSON.stringify(last)}`);
    });
    expect(seen?.id).toBe(participantId);
    await eventually(
      "the direct participant decodes the namespaced one",
      async () => {
        if (!last?.camera) return false;
        await direct!.consume(last.camera);
        return (await direct!.inbound(last.camera)).framesDecoded > 0;
      },
      60_000,
    );
    for (const pair of [last!.send, last!.recv]) {
      expect(pair).toMatchObject({ localType: "relay", relayProtocol: "tcp" });
    }
    // Beside it, the participant outside the namespace went straight to the media port.
    expect((await direct.selectedPair("recv"))?.localType).not.toBe("relay");
  });
});
