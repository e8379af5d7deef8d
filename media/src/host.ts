import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import type { Database } from "@nexus/drizzle";
import type { Bus, HostRegistry, Logger } from "@nexus/platform";
import { createRecordingStorage } from "@nexus/platform/recording-storage";
import { subscribeMeetingEvents } from "./cluster/bus-subscriber.js";
import { startHeartbeat } from "./cluster/heartbeat.js";
import type { MediaConfig } from "./config.js";
import { HANDLERS } from "./handlers/index.js";
import { leftLobby } from "./handlers/lobby.js";
import { ChatService } from "./meeting/chat.js";
import { LiveMeetings } from "./meeting/live-meetings.js";
import { LobbyBook } from "./meeting/lobby-book.js";
import { meetingLoader } from "./meeting/meeting-loader.js";
import { MeetingRows } from "./meeting/meeting-rows.js";
import { ParticipantRecorder } from "./meeting/participant-log.js";
import { MeetingRecords } from "./meeting/records.js";
import type { MeetingServices } from "./meeting/services.js";
import { createJoinCounter, createMediaMetrics } from "./metrics.js";
import { subscribeRecordingCommands } from "./recording/bus-commands.js";
import { RecordingRows } from "./recording/recording-rows.js";
import { Recordings } from "./recording/recordings.js";
import { announcedAddressWarning } from "./sfu/announced-ip.js";
import { RoomManager } from "./sfu/rooms.js";
import { TransportBytes } from "./sfu/transport-bytes.js";
import { resolveWorkerBin } from "./sfu/worker-bin.js";
import { WorkerPool } from "./sfu/worker-pool.js";
import { createAdmission } from "./signal/admission.js";
import { startSignalServer } from "./signal/server.js";
import { UsedTokens } from "./signal/used-tokens.js";

export interface MediaHostDeps {
  config: MediaConfig;
  db: Database;
  bus: Bus;
  registry: HostRegistry;
  logger: Logger;
  now?: () => Date;
}

export interface MediaHost {
  readonly hostId: string;
  readonly wsUrl: string;
  readonly port: number;
  /** Refuse new rooms, keep serving current ones; resolves when the last one has closed. */
  drain(): Promise<void>;
  /** Idempotent: leaves the registry, disconnects everybody, closes rooms and workers. */
  close(): Promise<void>;
  /** For tests and the composition root: the live parts. */
  readonly rooms: RoomManager;
  readonly pool: WorkerPool;
  readonly recorder: ParticipantRecorder;
  readonly services: MeetingServices;
  readonly recordings: Recordings;
}

export async function createMediaHost(deps: MediaHostDeps): Promise<MediaHost> {
  const { config, db, bus, registry } = deps;
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger.child({ host_id: config.hostId });
  const hostId = config.hostId;

  const addressWarning = announcedAddressWarning(config);
  if (addressWarning) logger.warn(addressWarning);
  const pool = await WorkerPool.create({
    numWorkers: config.numWorkers,
    rtcMinPort: config.rtcMinPort,
    rtcMaxPort: config.rtcMaxPort,
    listenIp: config.listenIp,
    announcedIp: config.announcedIp,
    webRtcPort: config.webRtcPort,
    workerBin: config.workerBin ?? resolveWorkerBin(),
    logLevel: config.workerLogLevel,
    logger,
  });

  const meetings = meetingLoader(db.db);
  const transportBytes = new TransportBytes();
  const liveMeetings = new LiveMeetings({
    load: meetings.load,
    isLive: (meetingId) => {
      const room = rooms.get(meetingId);
      return room !== undefined && !room.closed;
    },
    maxAgeMs: config.meetingCacheMs,
    now: () => now().getTime(),
  });
  const recorder = new ParticipantRecorder(db.db, hostId, logger, now, { batchMs: config.dbBatchMs });
  const records = new MeetingRecords({
    db: db.db,
    batchMs: config.dbBatchMs,
    bus,
    logger,
    now,
    isLive: (meetingId) => rooms.get(meetingId) !== undefined,
  });
  const rooms = new RoomManager({
    pool,
    meetings,
    logger,
    reconnectGraceMs: config.reconnectGraceMs,
    limits: config.peerLimits,
    // Rooms are only made for connected clients, so the signal server below is up by then.
    channel: (meetingId) => server.channel(meetingId),
  });
  // Each record keeper subscribes to the rooms itself; the host only adds what belongs to no one else.
  rooms.observer.on("newroom", (room) => {
    recorder.watch(room);
    records.watch(room);
    room.events.on("transportclosing", (transport) => transportBytes.beforeClose(transport));
    room.events.on("close", () => {
      liveMeetings.forget(room.id);
      registry.releaseMeeting(room.id, hostId).catch((err) => logger.warn({ err }, "release meeting failed"));
    });
  });
  const recordings = new Recordings({
    hostId,
    settings: {
      dir: resolve(config.recording.dir),
      ffmpegBin: config.recording.ffmpegBin,
      portRange: { min: config.recording.portMin, max: config.recording.portMax },
      storage: createRecordingStorage(config.recording.storage),
    },
    compositeJobs: config.recording.compositeJobs,
    rows: new RecordingRows(db.db),
    logger,
    now,
  });
  await recordings
    .sweepOrphans()
    .catch((err) => logger.warn({ err }, "could not sweep unfinished recordings"));
  const services: MeetingServices = {
    db: db.db,
    bus,
    logger,
    now,
    recorder,
    rows: new MeetingRows(db.db, now),
    records,
    lobby: new LobbyBook({ perUser: config.peerLimits.peersPerUser }),
    chat: new ChatService({
      db: db.db,
      logger,
      now,
      randomId: randomUUID,
      participantRow: (id) => recorder.rowWritten(id),
    }),
    meetings: liveMeetings,
    recordings,
  };
  const metrics = createMediaMetrics(rooms, pool, hostId, transportBytes);
  const refusals = createJoinCounter(metrics);
  const usedTokens = new UsedTokens(() => now().getTime());

  const authenticate = createAdmission({
    hostId,
    joinTokenSecret: config.joinTokenSecret,
    claimTtlMs: config.claimTtlMs,
    rooms,
    meetings: liveMeetings,
    registry,
    usedTokens,
    now,
    refused: (code) => refusals.inc({ code }),
  });

  let server: Awaited<ReturnType<typeof startSignalServer>>;
  try {
    server = await startSignalServer({
      bind: config.bind,
      port: config.port,
      maxMessageBytes: config.maxMessageBytes,
      maxBackpressureBytes: config.maxBackpressureBytes,
      ratePerSec: config.ratePerSec,
      rateBurst: config.rateBurst,
      logger,
      handlers: HANDLERS,
      authenticate,
      context: (session) => ({ session, rooms, logger, services }),
      onSessionClosed: (session) => {
        leftLobby(services, rooms, session);
        if (session.room && session.peer) session.room.disconnected(session.peer, session.conn);
      },
      http: {
        "/health": async () => {
          const live = pool.liveSlots.length;
          return {
            status: live > 0 ? 200 : 503,
            contentType: "application/json",
            body: JSON.stringify({
              status: live > 0 ? "ok" : "degraded",
              host_id: hostId,
              workers: live,
              rooms: rooms.size,
              peers: rooms.peerCount(),
              draining: rooms.isDraining,
            }),
          };
        },
        "/metrics": async () => ({
          status: 200,
          contentType: metrics.contentType,
          body: await metrics.metrics(),
        }),
      },
    });
  } catch (error) {
    pool.close();
    throw error;
  }

  const wsUrl = config.publicUrl ?? `ws://127.0.0.1:${server.port}`;
  const snapshot = () => ({
    id: hostId,
    ws_url: wsUrl,
    capacity: config.capacity,
    load: rooms.peerCount(),
    rooms: rooms.size,
    draining: rooms.isDraining,
  });
  const heartbeat = startHeartbeat({
    registry,
    everyMs: config.heartbeatMs,
    logger,
    snapshot,
    now: () => now().getTime(),
    // Claims expire unless renewed; a live room keeps its meeting.
    onBeat: async () => {
      for (const room of rooms.all()) await registry.claimMeeting(room.id, hostId, config.claimTtlMs);
    },
  });
  const unsubscribe = await subscribeMeetingEvents(bus, rooms, services.lobby, liveMeetings, logger);
  const unsubscribeRecordings = await subscribeRecordingCommands(bus, rooms, recordings, logger);
  await heartbeat.beat();
  logger.info({ ws_url: wsUrl, workers: pool.liveSlots.length }, "media host listening");

  let closing: Promise<void> | null = null;
  return {
    hostId,
    wsUrl,
    port: server.port,
    rooms,
    pool,
    recorder,
    services,
    recordings,
    async drain() {
      const done = rooms.drain();
      await heartbeat.beat();
      await done;
    },
    close() {
      closing ??= (async () => {
        heartbeat.stop();
        await unsubscribe().catch(() => {});
        await unsubscribeRecordings().catch(() => {});
        await registry.remove(hostId).catch((err) => logger.warn({ err }, "could not leave the registry"));
        server.close();
        rooms.close();
        // Closing the rooms ended their recordings; their files and rows are finished before the host goes.
        await recordings.close();
        records.close();
        pool.close();
        await recorder.flush();
        await records.flush();
        logger.info("media host closed");
      })();
      return closing;
    },
  };
}
