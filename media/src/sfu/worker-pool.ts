import type { Logger } from "@nexus/platform";
import type { types as ms } from "mediasoup";
import * as mediasoup from "mediasoup";
import { useFastMediasoupClone } from "./mediasoup-clone.js";

export interface WorkerPoolOptions {
  numWorkers: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  listenIp: string;
  announcedIp: string | undefined;
  /** Set: the one worker's WebRtcServer takes this port (the single-port mode). */
  webRtcPort?: number | null;
  workerBin: string | undefined;
  logLevel: ms.WorkerLogLevel;
  logger: Logger;
}

/** One core's worth of media: a worker and the WebRtcServer every transport on it shares. */
export interface WorkerSlot {
  readonly index: number;
  readonly worker: ms.Worker;
  readonly webRtcServer: ms.WebRtcServer;
  /** Peers currently placed on this worker; the placement weight. */
  load: number;
}

type DeathListener = (index: number) => void;

/**
 * Worker per slot, each slot owning one fixed port (RTC_MIN_PORT + index, or the one MEDIASOUP_WEBRTC_PORT of a
 * single-worker host) for UDP and TCP, so a respawned
 * worker listens where its predecessor did. A dead worker is replaced; listeners hear of the death at once
 * so their rooms can move to a live slot.
 */
export class WorkerPool {
  private readonly slots: (WorkerSlot | null)[];
  private readonly deathListeners = new Set<DeathListener>();
  private readonly waiters: (() => void)[] = [];
  private closed = false;

  private constructor(private readonly options: WorkerPoolOptions) {
    this.slots = Array.from({ length: options.numWorkers }, () => null);
  }

  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    try {
      await Promise.all(pool.slots.map((_, i) => pool.spawn(i)));
    } catch (error) {
      pool.close();
      throw error;
    }
    return pool;
  }

  get workers(): ms.Worker[] {
    return this.slots.flatMap((s) => (s ? [s.worker] : []));
  }

  get liveSlots(): WorkerSlot[] {
    return this.slots.filter((s): s is WorkerSlot => s !== null && !s.worker.closed);
  }

  onWorkerDeath(listener: DeathListener): () => void {
    this.deathListeners.add(listener);
    return () => this.deathListeners.delete(listener);
  }

  /** The least-loaded live slot; waits for a respawn when every worker is down. */
  async pick(): Promise<WorkerSlot> {
    for (;;) {
      if (this.closed) throw new Error("worker pool closed");
      const live = this.liveSlots;
      if (live.length > 0) return live.reduce((a, b) => (b.load < a.load ? b : a));
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots) slot?.worker.close();
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async spawn(index: number): Promise<void> {
    const { options } = this;
    useFastMediasoupClone();
    const worker = await mediasoup.createWorker({
      logLevel: options.logLevel,
      workerBin: options.workerBin,
      rtcMinPort: options.rtcMinPort,
      rtcMaxPort: options.rtcMaxPort,
    });
    const port = options.webRtcPort ?? options.rtcMinPort + index;
    const announcedAddress = options.announcedIp;
    let webRtcServer: ms.WebRtcServer;
    try {
      webRtcServer = await worker.createWebRtcServer({
        listenInfos: [
          { protocol: "udp", ip: options.listenIp, announcedAddress, port },
          { protocol: "tcp", ip: options.listenIp, announcedAddress, port },
        ],
      });
    } catch (error) {
      worker.close();
      throw error;
    }
    const slot: WorkerSlot = { index, worker, webRtcServer, load: 0 };
    this.slots[index] = slot;
    worker.on("died", (error) => this.onDied(slot, error));
    options.logger.info({ worker_pid: worker.pid, slot: index, port }, "mediasoup worker started");
    if (this.closed) worker.close();
    for (const wake of this.waiters.splice(0)) wake();
  }

  private onDied(slot: WorkerSlot, error: Error): void {
    if (this.closed) return;
    this.options.logger.error(
      { worker_pid: slot.worker.pid, slot: slot.index, err: error },
      "mediasoup worker died",
    );
    if (this.slots[slot.index] === slot) this.slots[slot.index] = null;
    for (const listener of this.deathListeners) listener(slot.index);
    void this.respawn(slot.index, 1);
  }

  private async respawn(index: number, attempt: number): Promise<void> {
    if (this.closed) return;
    try {
      await this.spawn(index);
    } catch (error) {
      const delay = Math.min(30_000, 250 * 2 ** attempt);
      this.options.logger.error({ slot: index, err: error, retry_in_ms: delay }, "worker respawn failed");
      const timer = setTimeout(() => void this.respawn(index, attempt + 1), delay);
      timer.unref();
    }
  }
}
