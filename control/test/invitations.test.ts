import type { Database } from "@nexus/drizzle";
import ICAL from "ical.js";
import { describe, expect, it } from "vitest";
import { appPerSuite, BACKENDS, call, freshTenant, type TestApp, userToken } from "./harness.js";

/** The invitation as a calendar program reads it: parsed by ical.js, not by our own code. */
function parse(text: string) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  const vevent = calendar.getFirstSubcomponent("vevent")!;
  const event = new ICAL.Event(vevent);
  return {
    method: calendar.getFirstPropertyValue("method"),
    uid: event.uid,
    sequence: event.sequence,
    summary: event.summary,
    description: event.description,
    start: event.startDate.toJSDate().toISOString(),
    end: event.endDate.toJSDate().toISOString(),
    status: vevent.getFirstPropertyValue("status"),
    url: vevent.getFirstPropertyValue("url"),
    attendees: vevent.getAllProperties("attendee").map((p) => String(p.getFirstValue())),
    organizer: String(vevent.getFirstPropertyValue("organizer")),
  };
}

describe.each(BACKENDS)("calendar invitations on $name", (backend) => {
  let t: TestApp;
  appPerSuite(backend, (app) => {
    t = app;
  });
  const as = (tenant: string, sub = "alice", role = "host") =>
    userToken({ tenant, sub, role, clock: t.clock });
  const ics = (token: string, id: string) => call(t, "GET", `/api/meetings/${id}/invite.ics`, { token });
  const schedule = { scheduled_start: "2030-02-03T09:30:00Z", scheduled_end: "2030-02-03T10:15:00Z" };

  it("gives an RFC 5545 event with the schedule, the join link and the invitees as attendees", async () => {
    const token = await as(freshTenant());
    const created = await call(t, "POST", "/api/meetings", {
      token,
      body: {
        title: "Quarterly review; budget, staffing",
        description: "Agenda:\n1. numbers\n2. people — ünïcødé and a long line ".padEnd(200, "x"),
        invitees: ["Bob@Example.com", "carol@example.org", "bob@example.com"],
        ...schedule,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.invitees).toEqual(["bob@example.com", "carol@example.org"]);
    const res = await ics(token, created.body.id);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/calendar");
    const text = res.body as string;
    for (const line of text.split("\r\n").slice(0, -1))
      expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect(text.endsWith("\r\n")).toBe(true);
    const e = parse(text);
    expect(e).toMatchObject({
      method: "REQUEST",
      uid: `${created.body.id}@nexus-meet`,
      sequence: 0,
      summary: "Quarterly review; budget, staffing",
      start: "2030-02-03T09:30:00.000Z",
      end: "2030-02-03T10:15:00.000Z",
      status: "CONFIRMED",
      attendees: ["mailto:bob@example.com", "mailto:carol@example.org"],
      organizer: "mailto:noreply@nexus-meet.invalid",
    });
    expect(e.url).toMatch(new RegExp(`/#/m/${created.body.id}$`));
    expect(e.description).toContain("ünïcødé and a long line xxxx");
    expect(e.description).toContain(`Join: ${e.url}`);
    expect(e.description.startsWith("Agenda:\n1. numbers\n2. people")).toBe(true);
  });

  it("round-trips updates: same UID, SEQUENCE up only when the calendar's view changes, then CANCEL on delete", async () => {
    const token = await as(freshTenant());
    const id = (await call(t, "POST", "/api/meetings", { token, body: { title: "Sync", ...schedule } })).body
      .id;
    const first = parse((await ics(token, id)).body);
    expect(first.attendees).toEqual([]);

    const moved = await call(t, "PUT", `/api/meetings/${id}`, {
      token,
      body: {
        scheduled_start: "2030-02-04T09:30:00Z",
        scheduled_end: "2030-02-04T11:00:00Z",
        invitees: ["dan@example.com"],
      },
    });
    expect(moved.status).toBe(200);
    const second = parse((await ics(token, id)).body);
    expect(second).toMatchObject({
      uid: first.uid,
      sequence: 1,
      start: "2030-02-04T09:30:00.000Z",
      end: "2030-02-04T11:00:00.000Z",
      attendees: ["mailto:dan@example.com"],
    });

    // Nothing a calendar shows: the sequence stays.
    await call(t, "PUT", `/api/meetings/${id}`, { token, body: { lobby_enabled: true } });
    expect(parse((await ics(token, id)).body).sequence).toBe(1);
    await call(t, "PUT", `/api/meetings/${id}`, { token, body: { title: "Sync (moved)" } });
    expect(parse((await ics(token, id)).body)).toMatchObject({ sequence: 2, summary: "Sync (moved)" });

    expect((await call(t, "DELETE", `/api/meetings/${id}`, { token })).status).toBe(204);
    const gone = await ics(token, id);
    expect(gone.status).toBe(200);
    expect(gone.headers.get("content-type")).toContain("method=CANCEL");
    expect(parse(gone.body)).toMatchObject({
      method: "CANCEL",
      status: "CANCELLED",
      uid: first.uid,
      sequence: 3,
      attendees: ["mailto:dan@example.com"],
    });
    expect((await call(t, "GET", `/api/meetings/${id}`, { token })).status).toBe(404);
  });

  it("uses PUBLIC_URL for the join link when set", async () => {
    const { makeApp, testConfig } = await import("./harness.js");
    const other = makeApp({ db: t.deps.db } as unknown as Database, {
      config: testConfig({ PUBLIC_URL: "https://meet.example.com/" }),
    });
    const token = await as(freshTenant());
    const id = (await call(other, "POST", "/api/meetings", { token, body: { title: "Link", ...schedule } }))
      .body.id;
    const e = parse((await call(other, "GET", `/api/meetings/${id}/invite.ics`, { token })).body);
    expect(e.url).toBe(`https://meet.example.com/#/m/${id}`);
  });

  it("refuses what has no calendar event, and other tenants' meetings", async () => {
    const tenant = freshTenant();
    const token = await as(tenant);
    const unscheduled = (await call(t, "POST", "/api/meetings", { token, body: { title: "Ad hoc" } })).body
      .id;
    const res = await ics(token, unscheduled);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("invalid_state");
    const id = (await call(t, "POST", "/api/meetings", { token, body: { title: "Ours", ...schedule } })).body
      .id;
    const stranger = await as(freshTenant(), "mallory");
    expect((await ics(stranger, id)).status).toBe(404);
    await call(t, "DELETE", `/api/meetings/${id}`, { token });
    expect((await ics(stranger, id)).status).toBe(404);
    expect((await ics(token, "not-a-uuid")).status).toBe(404);
    const bad = await call(t, "POST", "/api/meetings", {
      token,
      body: { title: "x", invitees: ["not an email"] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("validation_failed");
  });
});
