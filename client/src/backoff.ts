/** How the client spaces its reconnect attempts. */
export interface BackoffOptions {
  /** Delay before the second attempt; each later one doubles it (default 250 ms). The first is immediate. */
  baseDelayMs?: number;
  /** Longest delay between two attempts (default 5 s). */
  maxDelayMs?: number;
  /** Attempts before the client gives up and reports `disconnected` with reason "gave-up" (default 10). */
  maxAttempts?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = {
  baseDelayMs: 250,
  maxDelayMs: 5000,
  maxAttempts: 10,
};

/**
 * The wait before attempt `n` (1-based): none for the first (most drops are a socket that can come back at
 * once), then exponential with jitter over the upper half, so clients dropped together do not return in step.
 */
export function backoffDelay(
  n: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  if (n <= 1) return 0;
  const base = options.baseDelayMs ?? DEFAULT_BACKOFF.baseDelayMs;
  const max = options.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs;
  const ceiling = Math.min(max, base * 2 ** (n - 2));
  return Math.round(ceiling * (0.5 + random() * 0.5));
}
