import { randomUUID } from "node:crypto";
import { type ClientEvents, MeetingClient, type MeetingClientOptions } from "@nexus/client";
import type { JoinAnswer } from "@nexus/shared/rest/join";
import type { WebSocketLike } from "@nexus/shared/signaling/client";
import { startTcpProxy, type TcpProxy } from "@nexus/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { type Feed, inRoom, Participant, videoFeed } from "./support/participant.js";

/*
 * @nexus/client's connection state machine against a real media host: each person is a MeetingClient on
 * mediasoup-client + wrtc whose signaling goes through a TCP proxy the test owns, so the test can cut it
 * (both ends reset, as on a network drop) and refuse new connections for as long as it likes.
 */

const GRACE_MS = 3000;

interface Person {
  name: string;
  client: MeetingClient;
  proxy: TcpProxy;
  feed: Feed;
  events: { type: keyof ClientEvents; data: unknown }[];
}

let fx: HostFixture;
let meetingId: string;
const people: Person[] = [];

async function person(name: string, reconnect: MeetingClientOptions["reconnect"] = {}): Promise<Person> {
  const proxy = await startTcpProxy({ port: fx.host.port });
  const userId = `user-${name}`;
  // What control's POST /join would answer, pointed at the proxy.
  const answer = async (): Promise<JoinAnswer> => {
    const participantId = randomUUID();
    const token = await fx.token(meetingId, { participant_id: participantId, user_id: userId, name });
    return {
      ws_url: `ws://127.0.0.1:${proxy.port}`,
      join_token: token,
      participant_id: participantId,
      meeting_id: meetingId,
      host_id: fx.host.hostId,
      role: "member",
      expires_at: new Date(Date.now() + 60_000).toISOString(),
    };
  };
  const { track, feed } = videoFeed(640, 360);
  const client = new MeetingClient({
    join: await answer(),
    rejoin: answer,
    video: track,
    audio: null,
    handlerName: "Chrome111",
    openSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
    reconnect: { baseDelayMs: 100, maxDelayMs: 400, maxAttempts: 60, openTimeoutMs: 2000, ...reconnect },
  });
  const p: Person = { name, client, proxy, feed, events: [] };
  for (const type of ["connecting", "connected", "reconnecting", "reconnected", "disconnected"] as const)
    client.on(type, (data?: unknown) => p.events.push({ type, data }));
  people.push(p);
  await client.start();
  return p;
}

/** Frames `viewer` decoded of `of`'s camera, read from the consumer matched by its SSRC (not the probator). */
async function framesOf(viewer: Person, of: Person): Promise<number> {
  const stats = await viewer.client.stats();
  const camera = stats.find((s) => s.participantId === of.client.participantId && s.source === "camera");
  return camera && camera.mid !== null ? camera.framesDecoded : 0;
}

async function decodesAgain(viewer: Person, of: Person): Promise<void> {
  const before = await framesOf(viewer, of);
  await eventually(
    `${viewer.name} decodes ${of.name}'s camera`,
    async () => (await framesOf(viewer, of)) > before + 3,
    30_000,
  );
}

const peersNamed = (viewer: Person, name: string) =>
  [...viewer.client.peers.values()].filter((p) => p.name === name);

beforeAll(async () => {
  fx = await startHostFixture({ graceMs: GRACE_MS });
  meetingId = await fx.createMeeting();
});

afterAll(async () => {
  for (const p of people) {
    await p.client.leave();
    p.feed.stop();
    await p.proxy.close();
  }
  await fx?.close();
});

describe("@nexus/client against a real media host", () => {
  let alice: Person;
  let bob: Person;

  it("joins and both sides decode each other's camera", async () => {
    alice = await person("Alice");
    bob = await person("Bob");
    expect(alice.client.connection).toBe("connected");
    expect(alice.events.map((e) => e.type)).toEqual(["connecting", "connected"]);
    await decodesAgain(alice, bob);
    await decodesAgain(bob, alice);
  });

  it("resumes the same peer after its signaling is cut; the others see it reconnecting, not leaving", async () => {
    await alice.client.sendMessage("before the drop");
    const aliceId = alice.client.participantId;
    alice.proxy.refuse(true);
    alice.proxy.cut();
    await eventually("alice knows she is reconnecting", () => alice.client.connection === "reconnecting");
    await eventually("bob shows alice as reconnecting", () => bob.client.peers.get(aliceId)?.reconnecting);
    // Said while she was away: she reads it from the history once back.
    await bob.client.sendMessage("while you were away");
    // Someone arriving now is told she is there, reconnecting.
    const zed = await Participant.join(
      `${fx.host.wsUrl}/?token=${await fx.token(meetingId, { user_id: "user-zed", name: "Zed" })}`,
    );
    expect(zed.joinAck.peers.find((p) => p.participant_id === aliceId)?.connection).toBe("reconnecting");
    await zed.client.request("leave-meeting", {});
    zed.close();
    alice.proxy.refuse(false);
    await eventually("alice is back", () => alice.client.connection === "connected", 20_000);

    expect(alice.events.find((e) => e.type === "reconnected")?.data).toMatchObject({ resumed: true });
    expect(alice.client.participantId).toBe(aliceId);
    await eventually(
      "bob shows alice connected again",
      () => bob.client.peers.get(aliceId)?.reconnecting === false,
    );
    expect(
      bob.client.signaling.received("participant-left").filter((d) => d.participant_id === aliceId),
    ).toEqual([]);
    expect(
      bob.client.signaling.received("participant-joined").filter((p) => p.display_name === "Alice"),
    ).toEqual([]);
    expect(peersNamed(bob, "Alice")).toHaveLength(1);
    await decodesAgain(alice, bob);
    await decodesAgain(bob, alice);
    await eventually("alice has the chat from before and during the drop", () =>
      ["before the drop", "while you were away"].every((t) =>
        alice.client.messages.some((m) => m.content === t),
      ),
    );
    expect(bob.client.messages.filter((m) => m.content === "before the drop")).toHaveLength(1);
  });

  it("re-joins through control when the host no longer keeps the peer, without a duplicate", async () => {
    const oldId = alice.client.participantId;
    alice.proxy.refuse(true);
    alice.proxy.cut();
    const left = await bob.client.signaling.waitFor("participant-left", (d) => d.participant_id === oldId, {
      timeoutMs: GRACE_MS + 15_000,
    });
    expect(left.reason).toBe("timeout");
    alice.proxy.refuse(false);
    await eventually("alice is back", () => alice.client.connection === "connected", 30_000);

    const reconnected = alice.events.filter((e) => e.type === "reconnected").at(-1);
    expect(reconnected?.data).toMatchObject({ resumed: false });
    expect(alice.client.participantId).not.toBe(oldId);
    await eventually("bob sees the new alice", () => bob.client.peers.has(alice.client.participantId));
    expect(bob.client.peers.has(oldId)).toBe(false);
    expect(peersNamed(bob, "Alice")).toHaveLength(1);
    expect([...alice.client.peers.values()].map((p) => p.name)).toEqual(["Bob"]);
    await decodesAgain(alice, bob);
    await decodesAgain(bob, alice);
    expect(alice.client.messages.some((m) => m.content === "before the drop")).toBe(true);
  });

  it("gives up after its attempts, says why, and retry() brings it back", async () => {
    const carol = await person("Carol", { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 200 });
    await decodesAgain(carol, bob);
    carol.proxy.refuse(true);
    carol.proxy.cut();
    await eventually("carol gives up", () => carol.client.connection === "disconnected", 20_000);
    const reconnecting = carol.events.filter((e) => e.type === "reconnecting");
    expect(reconnecting.map((e) => (e.data as { attempt: number }).attempt)).toEqual([1, 2, 3]);
    expect(carol.events.at(-1)).toMatchObject({ type: "disconnected", data: { reason: "gave-up" } });
    expect(carol.client.phase).toBe("failed");
    expect(carol.client.error).toMatch(/could not be restored/);
    expect(carol.client.canRetry).toBe(true);

    carol.proxy.refuse(false);
    await carol.client.retry();
    expect(carol.client.connection).toBe("connected");
    expect(carol.client.phase).toBe("joined");
    await decodesAgain(carol, bob);
    await decodesAgain(bob, carol);
    expect(peersNamed(bob, "Carol")).toHaveLength(1);
  });

  it("a fresh join that names the old peer's resume token (?replaces=) takes its place: one leave, one join", async () => {
    const userId = "user-dave";
    const first = await Participant.join(
      `${fx.host.wsUrl}/?token=${await fx.token(meetingId, { user_id: userId, name: "Dave" })}`,
    );
    await eventually("bob sees dave", () => peersNamed(bob, "Dave").length === 1);
    // The host still thinks the first connection is up (a half-open socket): a resume cannot take it.
    const token = await fx.token(meetingId, { user_id: userId, name: "Dave" });
    const second = await Participant.join(
      `${fx.host.wsUrl}/?token=${token}&replaces=${first.joinAck.resume_token}`,
    );
    expect(first.joinAck.participant_id).not.toBe(second.id);
    const left = await bob.client.signaling.waitFor("participant-left", (d) => d.participant_id === first.id);
    expect(left.reason).toBe("rejoined");
    await eventually("bob sees one dave, the new one", () => {
      const daves = peersNamed(bob, "Dave");
      return daves.length === 1 && daves[0]!.id === second.id;
    });
    // Somebody else's token names nobody: a replaces= for another user changes nothing.
    const eve = await Participant.join(
      `${fx.host.wsUrl}/?token=${await fx.token(meetingId, { user_id: "user-eve", name: "Eve" })}&replaces=${second.joinAck.resume_token}`,
    );
    expect(inRoom(eve.joinAck).peers.map((p) => p.display_name)).toContain("Dave");
    expect(fx.host.rooms.get(meetingId)?.peers.has(second.id)).toBe(true);
    first.close();
    second.close();
    eve.close();
  });
});
