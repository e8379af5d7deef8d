import { mkdirSync } from "node:fs";
import { join } from "node:path";
import pino, { type Logger } from "pino";

export type { Logger };

export interface LoggerOptions {
  name: string;
  level?: string;
  /** Directory for combined.log and error.log; null writes to stdout only (tests). */
  dir?: string | null;
  /** Also write to stdout (default true). */
  stdout?: boolean;
}

/**
 * JSON lines to stdout, logs/combined.log (everything at the level) and logs/error.log (errors only),
 * the files the service description names. Callers add bindings such as request_id with child().
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? "info";
  const streams: pino.StreamEntry[] = [];
  if (options.stdout ?? true) streams.push({ level: level as pino.Level, stream: process.stdout });
  if (options.dir) {
    mkdirSync(options.dir, { recursive: true });
    streams.push({
      level: level as pino.Level,
      stream: pino.destination({ dest: join(options.dir, "combined.log"), sync: false }),
    });
    streams.push({
      level: "error",
      stream: pino.destination({ dest: join(options.dir, "error.log"), sync: false }),
    });
  }
  return pino({ name: options.name, level, base: { service: options.name } }, pino.multistream(streams));
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger = (): Logger => pino({ level: "silent" });
