import { BUS_CHANNELS } from "@nexus/shared/bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { connect, Participant } from "./support/participant.js";

describe("the media host in its cluster", () => {
  let fx: HostFixture;

  beforeAll(async () => {
    fx = await startHostFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  it("registers itself with its WebSocket URL and keeps its heartbeat fresh", async () => {
    const [first] = await fx.registry.list();
    expect(first).toMatchObject({ id: fx.host.hostId, ws_url: fx.host.wsUrl, draining: false, rooms: 0 });
    await eventually("a newer heartbeat", async () => {
      const [again] = await fx.registry.list();
      return again!.heartbeat_at > first!.heartbeat_at;
    });
  });

  it("gives concurrent first joins one room on one router", async () => {
    const meetingId = await fx.createMeeting();
    const tokens = await Promise.all(Array.from({ length: 5 }, () => fx.token(meetingId)));
    const people = await Promise.all(tokens.map((t) => Participant.join(`${fx.host.wsUrl}/?token=${t}`)));
    expect(fx.host.rooms.size).toBe(1);
    expect(fx.host.rooms.get(meetingId)?.peers.size).toBe(5);
    const dump = await fx.host.pool.workers[0]!.dump();
    expect(dump.routerIds).toHaveLength(1);
    for (const p of people) p.close();
    await eventually("the room to close", () => fx.host.rooms.size === 0, 10_000);
  });

  it("refuses a participant beyond max_participants", async () => {
    const meetingId = await fx.createMeeting({ maxParticipants: 1 });
    const first = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    const { client } = await connect(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    await expect(client.request("join-meeting", {})).rejects.toMatchObject({ code: "meeting_full" });
    client.close();
    first.close();
  });

  it("ends a meeting when control says so on the bus: everyone is told and the room is released", async () => {
    const meetingId = await fx.createMeeting();
    const a = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    const b = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    await a.createTransports();
    await a.produceAudio();
    const routerId = fx.host.rooms.get(meetingId)!.routerId;
    const closedCodes = [a, b].map((p) => new Promise<number>((r) => p.ws.on("close", (code) => r(code))));
    await fx.bus.publish(BUS_CHANNELS.meetings, {
      type: "meeting-ended",
      tenant_id: fx.tenantId,
      meeting_id: meetingId,
      reason: "ended by host",
    });
    for (const p of [a, b]) {
      expect(await p.client.waitFor("meeting-ended")).toEqual({ reason: "ended by host" });
    }
    expect(await Promise.all(closedCodes)).toEqual([4000, 4000]);
    expect(fx.host.rooms.get(meetingId)).toBeUndefined();
    expect(await fx.registry.meetingOwner(meetingId)).toBeNull();
    const dump = await fx.host.pool.workers[0]!.dump();
    expect(dump.routerIds).not.toContain(routerId);
    a.close();
    b.close();
  });

  it("ignores a meeting-ended for the same meeting id from another tenant", async () => {
    const meetingId = await fx.createMeeting();
    const a = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    await fx.bus.publish(BUS_CHANNELS.meetings, {
      type: "meeting-ended",
      tenant_id: "tenant-someone-else",
      meeting_id: meetingId,
      reason: "spoofed",
    });
    await fx.bus.publish(BUS_CHANNELS.meetings, { type: "garbage" });
    expect(await a.client.request("toggle-mute", { muted: true })).toEqual({ muted: true });
    expect(a.client.received("meeting-ended")).toEqual([]);
    a.close();
    await eventually("the room to close", () => fx.host.rooms.size === 0, 10_000);
  });

  it("drains: refuses new meetings, lets the current one finish, then resolves", async () => {
    const meetingId = await fx.createMeeting();
    const a = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    let drained = false;
    const draining = fx.host.drain().then(() => {
      drained = true;
    });
    await eventually("the registry to show draining", async () => (await fx.registry.list())[0]?.draining);
    const other = await fx.createMeeting();
    const refused = await connect(`${fx.host.wsUrl}/?token=${await fx.token(other)}`).catch((e) => e);
    expect(refused.status).toBe(503);
    // The running meeting still admits people.
    const b = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    expect(drained).toBe(false);
    await a.client.request("leave-meeting", {});
    await b.client.request("leave-meeting", {});
    await draining;
    expect(fx.host.rooms.size).toBe(0);
    a.close();
    b.close();
  });
});
