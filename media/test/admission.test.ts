import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { connect } from "./support/participant.js";

/** Every refusal happens at the HTTP upgrade: no socket, no room, no router. */
async function expectRefused(url: string, status: number): Promise<unknown> {
  const error = (await connect(url).then(
    () => null,
    (e: unknown) => e,
  )) as { status?: number; body?: string } | null;
  expect(error?.status).toBe(status);
  return JSON.parse(error?.body ?? "{}");
}

describe("admission of a join token", () => {
  let fx: HostFixture;
  let meetingId: string;

  beforeAll(async () => {
    fx = await startHostFixture();
    meetingId = await fx.createMeeting();
  });
  afterAll(async () => {
    await fx?.close();
  });

  const noRoomWork = async () => {
    expect(fx.host.rooms.size).toBe(0);
    const dump = await fx.host.pool.workers[0]!.dump();
    expect(dump.routerIds).toEqual([]);
  };

  it("refuses a connection without a token", async () => {
    expect(await expectRefused(`${fx.host.wsUrl}/`, 401)).toMatchObject({ error: { code: "unauthorized" } });
    await noRoomWork();
  });

  it("refuses a token signed with another secret", async () => {
    const forged = await fx.token(meetingId, {}, { secret: "not-the-secret-of-this-deployment" });
    await expectRefused(`${fx.host.wsUrl}/?token=${forged}`, 401);
    await noRoomWork();
  });

  it("refuses an expired token", async () => {
    const expired = await fx.token(meetingId, {}, { now: new Date(Date.now() - 3_600_000), ttlSeconds: 60 });
    expect(await expectRefused(`${fx.host.wsUrl}/?token=${expired}`, 401)).toMatchObject({
      error: { message: "join token expired" },
    });
    await noRoomWork();
  });

  it("refuses a token presented a second time", async () => {
    const token = await fx.token(meetingId);
    const first = await connect(`${fx.host.wsUrl}/?token=${token}`);
    first.client.close();
    expect(await expectRefused(`${fx.host.wsUrl}/?token=${token}`, 401)).toMatchObject({
      error: { message: "join token already used" },
    });
  });

  it("refuses a token placed on another media host", async () => {
    const token = await fx.token(meetingId, { host_id: "media-elsewhere" });
    await expectRefused(`${fx.host.wsUrl}/?token=${token}`, 401);
  });

  it("refuses a token whose tenant does not own the meeting", async () => {
    const token = await fx.token(meetingId, { tenant_id: "tenant-other" });
    await expectRefused(`${fx.host.wsUrl}/?token=${token}`, 404);
  });

  it("refuses a token for a meeting that does not exist", async () => {
    const token = await fx.token(randomUUID());
    await expectRefused(`${fx.host.wsUrl}/?token=${token}`, 404);
  });

  it("refuses a meeting that the registry places on another host", async () => {
    const elsewhere = await fx.createMeeting();
    await fx.registry.claimMeeting(elsewhere, "media-other", 60_000);
    const token = await fx.token(elsewhere);
    expect(await expectRefused(`${fx.host.wsUrl}/?token=${token}`, 403)).toMatchObject({
      error: { code: "forbidden" },
    });
  });

  it("refuses a meeting that has ended", async () => {
    const ended = await fx.createMeeting({ status: "ended" });
    await expectRefused(`${fx.host.wsUrl}/?token=${await fx.token(ended)}`, 409);
  });

  it("refuses an unknown resume token", async () => {
    await expectRefused(`${fx.host.wsUrl}/?resume=nope`, 401);
  });

  it("answers /health and /metrics on the same port", async () => {
    const http = fx.host.wsUrl.replace("ws://", "http://");
    const health = await fetch(`${http}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", host_id: fx.host.hostId, workers: 1 });
    const metrics = await (await fetch(`${http}/metrics`)).text();
    expect(metrics).toContain("nexus_media_rooms");
    expect(metrics).toMatch(/nexus_media_join_refusals_total\{[^}]*code="unauthorized"[^}]*\} [1-9]/);
  });
});
