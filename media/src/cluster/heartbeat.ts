import type { HostRegistry, Logger } from "@nexus/platform";
import type { HostInfo } from "@nexus/shared/bus";

export interface Heartbeat {
  /** Publishes now (e.g. right after draining starts) instead of waiting for the next beat. */
  beat(): Promise<void>;
  stop(): void;
}

/**
 * Keeps this host's entry in the registry fresh. A failed beat is logged and retried on the next tick;
 * readers judge liveness by heartbeat_at, so a stuck host ages out on its own.
 */
export function startHeartbeat(options: {
  registry: HostRegistry;
  everyMs: number;
  logger: Logger;
  snapshot: () => Omit<HostInfo, "heartbeat_at">;
  /** Extra work per beat, such as refreshing meeting claims. */
  onBeat?: () => Promise<void>;
  now?: () => number;
}): Heartbeat {
  const now = options.now ?? Date.now;
  let stopped = false;
  const beat = async () => {
    if (stopped) return;
    try {
      await options.registry.upsert({ ...options.snapshot(), heartbeat_at: now() });
      await options.onBeat?.();
    } catch (err) {
      options.logger.warn({ err }, "heartbeat failed");
    }
  };
  const timer = setInterval(() => void beat(), options.everyMs);
  timer.unref();
  return {
    beat,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
