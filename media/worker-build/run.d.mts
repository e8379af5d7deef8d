// Types for run.mjs.
export type Log = (msg: string) => void;
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  tail: string[];
}
export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  onLine?: (line: string) => void;
  logFile?: string;
}
export function formatDuration(ms: number): string;
export function defaultLog(msg: string): void;
export function run(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult>;
export function runChecked(
  cmd: string,
  args: string[],
  opts?: Omit<RunOptions, "timeoutMs"> & { log?: Log },
): Promise<RunResult>;
