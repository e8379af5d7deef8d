import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { type Db, recordings } from "@nexus/drizzle";
import type { RecordingStorage } from "@nexus/platform/recording-storage";
import { localPath } from "@nexus/platform/recording-storage-config";
import { BUS_CHANNELS, type RecordingBusMessage } from "@nexus/shared/bus";
import { AppError } from "@nexus/shared/errors";
import { RecordingFileQuerySchema } from "@nexus/shared/rest/recordings";
import { and, eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import type { ControlConfig } from "../config.js";
import type { AppEnv } from "../deps.js";
import { uuidParam, valid } from "../http.js";
import { assertAttendee } from "../policy.js";
import { assertCanManage, loadMeeting } from "../services/meetings.js";
import { recordingView } from "../services/views.js";

type RecordingRow = typeof recordings.$inferSelect;

/** One storage client per app configuration (the S3 client keeps its connections). */
const storages = new WeakMap<ControlConfig, { local: RecordingStorage; s3: RecordingStorage | null }>();

/** Loaded on first use, so a cold start that serves no recording file never loads the S3 client. */
async function storageFor(config: ControlConfig, kind: "local" | "s3"): Promise<RecordingStorage> {
  let pair = storages.get(config);
  if (!pair) {
    const { createRecordingStorage } = await import("@nexus/platform/recording-storage");
    const settings = config.recordingStorage;
    pair = {
      local: createRecordingStorage({ kind: "local", dir: settings.dir }),
      s3: settings.kind === "s3" ? createRecordingStorage(settings) : null,
    };
    storages.set(config, pair);
  }
  const storage = kind === "s3" ? pair.s3 : pair.local;
  if (!storage)
    throw new AppError("unavailable", "this recording is on S3 storage, which is not configured here");
  return storage;
}

/** How long control waits for the owning media host to write the row it was asked to start or stop. */
const START_WAIT_MS = 10_000;
const STOP_WAIT_MS = 20_000;
const POLL_MS = 50;

async function recordingRow(db: Db, tenantId: string, id: string): Promise<RecordingRow | undefined> {
  const [row] = await db
    .select()
    .from(recordings)
    .where(and(eq(recordings.tenantId, tenantId), eq(recordings.id, id)))
    .limit(1);
  return row;
}

function recordingIdParam(c: Context<AppEnv>, name: string): string {
  try {
    return uuidParam(c, name);
  } catch {
    throw new AppError("not_found", "recording not found");
  }
}

async function loadRecording(c: Context<AppEnv>, name = "recordingId"): Promise<RecordingRow> {
  const row = await recordingRow(c.get("deps").db, c.get("user").tenant_id, recordingIdParam(c, name));
  if (!row) throw new AppError("not_found", "recording not found");
  return row;
}

/** Polls the database until `done` holds for the recording's row (the media host is its only writer). */
async function awaitRow(
  db: Db,
  tenantId: string,
  id: string,
  done: (row: RecordingRow) => boolean,
  timeoutMs: number,
): Promise<RecordingRow | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await recordingRow(db, tenantId, id);
    if (row && done(row)) return row;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function publish(c: Context<AppEnv>, message: RecordingBusMessage): Promise<void> {
  try {
    await c.get("deps").bus.publish(BUS_CHANNELS.recordings, message);
  } catch (err) {
    c.get("log").error({ err, bus_message: message.type }, "bus publish failed");
    throw new AppError("unavailable", "could not reach the media host");
  }
}

const CONTENT_TYPES: Record<string, string> = {
  webm: "video/webm",
  mkv: "video/x-matroska",
  mp4: "video/mp4",
};

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range); null when absent, "invalid" when unsatisfiable. */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "invalid" | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "invalid";
  let start: number;
  let end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "invalid";
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) return "invalid";
  return { start, end };
}

/** Start and stop under a meeting: hosts of the meeting (its creator) and tenant admins only. */
export const meetingRecordingRoutes = () =>
  new Hono<AppEnv>()
    .post("/:id/recordings", async (c) => {
      const { db, registry, randomId } = c.get("deps");
      const user = c.get("user");
      const id = uuidParam(c);
      const meeting = await loadMeeting(c.get("queries"), user.tenant_id, id);
      assertCanManage(user, meeting);
      if (meeting.status !== "active") throw new AppError("invalid_state", "the meeting is not live");
      const owner = await registry.meetingOwner(id);
      if (!owner) throw new AppError("invalid_state", "nobody is in the meeting");
      const [running] = await db
        .select({ id: recordings.id })
        .from(recordings)
        .where(
          and(
            eq(recordings.tenantId, user.tenant_id),
            eq(recordings.meetingId, id),
            eq(recordings.status, "recording"),
          ),
        )
        .limit(1);
      if (running) throw new AppError("conflict", "a recording is already under way");
      const recordingId = randomId();
      await publish(c, {
        type: "recording-start",
        tenant_id: user.tenant_id,
        meeting_id: id,
        recording_id: recordingId,
        started_by: user.sub,
        started_by_name: user.name ?? null,
      });
      const row = await awaitRow(db, user.tenant_id, recordingId, () => true, START_WAIT_MS);
      if (!row) throw new AppError("unavailable", "the media host did not start the recording");
      return c.json(recordingView(row), 201);
    })
    .post("/:id/recordings/:recordingId/stop", async (c) => {
      const { db } = c.get("deps");
      const user = c.get("user");
      const id = uuidParam(c);
      assertCanManage(user, await loadMeeting(c.get("queries"), user.tenant_id, id));
      const row = await loadRecording(c);
      if (row.meetingId !== id) throw new AppError("not_found", "recording not found");
      if (row.status !== "recording") return c.json(recordingView(row), 200);
      await publish(c, {
        type: "recording-stop",
        tenant_id: user.tenant_id,
        meeting_id: id,
        recording_id: row.id,
        stopped_by: user.sub,
      });
      const done = await awaitRow(db, user.tenant_id, row.id, (r) => r.status !== "recording", STOP_WAIT_MS);
      if (!done) throw new AppError("unavailable", "the media host did not stop the recording");
      return c.json(recordingView(done), 200);
    });

/**
 * A recording to read: tenant-checked, then the meeting's `attendee` rule of ROUTE_POLICY (its hosts and the
 * users it admitted), as for the meeting's list of recordings.
 */
async function readableRecording(c: Context<AppEnv>): Promise<RecordingRow> {
  const row = await loadRecording(c);
  const user = c.get("user");
  await assertAttendee(
    c.get("deps").db,
    user,
    await loadMeeting(c.get("queries"), user.tenant_id, row.meetingId),
  );
  return row;
}

/** One recording: its row with tracks, its files (range requests), its removal. Tenant-checked like the rest. */
export const recordingRoutes = () =>
  new Hono<AppEnv>()
    .get("/:recordingId", async (c) => c.json(recordingView(await readableRecording(c)), 200))
    .get("/:recordingId/file", valid("query", RecordingFileQuerySchema), async (c) => {
      const row = await readableRecording(c);
      const { track } = c.req.valid("query");
      let key: string | null;
      let audio = false;
      if (track) {
        const found = row.tracks.find((t) => t.id === track);
        if (!found) throw new AppError("not_found", "no such track in this recording");
        key = found.file;
        audio = found.kind === "audio";
      } else {
        key = row.fileUrl;
        if (!key) throw new AppError("not_found", "this recording has no composite file; ask for a track");
      }
      if (row.status === "recording") throw new AppError("invalid_state", "the recording is still under way");
      const storage = await storageFor(c.get("deps").config, row.storage);
      const size = key ? await storage.size(key) : null;
      if (size === null || !key) throw new AppError("not_found", "file not found");
      const ext = key.slice(key.lastIndexOf(".") + 1);
      const type =
        audio && ext === "webm" ? "audio/webm" : (CONTENT_TYPES[ext] ?? "application/octet-stream");
      const name = key.slice(key.lastIndexOf("/") + 1);
      const headers: Record<string, string> = {
        "Content-Type": type,
        "Accept-Ranges": "bytes",
        "Content-Disposition": `attachment; filename="${name}"`,
      };
      const range = parseRange(c.req.header("Range"), size);
      if (range === "invalid") {
        return c.body(null, 416, { ...headers, "Content-Range": `bytes */${size}` });
      }
      if (size === 0) return c.body(null, 200, { ...headers, "Content-Length": "0" });
      const { start, end } = range ?? { start: 0, end: size - 1 };
      const body = await storage.read(key, start, end);
      return c.body(body, range ? 206 : 200, {
        ...headers,
        "Content-Length": String(end - start + 1),
        ...(range ? { "Content-Range": `bytes ${start}-${end}/${size}` } : {}),
      });
    })
    .delete("/:recordingId", async (c) => {
      const { db, config } = c.get("deps");
      const user = c.get("user");
      const row = await loadRecording(c);
      assertCanManage(user, await loadMeeting(c.get("queries"), user.tenant_id, row.meetingId));
      if (row.status === "recording") throw new AppError("invalid_state", "stop the recording first");
      const keys = [...row.tracks.map((t) => t.file), ...(row.fileUrl ? [row.fileUrl] : [])].filter(Boolean);
      await (await storageFor(config, row.storage)).remove(keys);
      // The recording's local folder also held what the recorder read (its SDP files).
      if (keys[0]) {
        const folder = localPath(config.recordingStorage.dir, dirname(keys[0]));
        if (folder) await rm(folder, { recursive: true, force: true });
      }
      await db
        .delete(recordings)
        .where(and(eq(recordings.tenantId, user.tenant_id), eq(recordings.id, row.id)));
      return c.body(null, 204);
    });
