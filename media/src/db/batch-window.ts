/**
 * The group-commit window: how long the first write of a batch waits for others to join it. Its timer does
 * not keep the process alive, and cut() ends the wait at once (flush, shutdown, a chat message waiting for
 * its sender's row).
 */
export class BatchWindow {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private release: (() => void) | null = null;
  /** While above zero (a flush or a waiting reader), waits end at once. */
  private hurry = 0;

  constructor(readonly ms: number) {}

  /** Resolves `ms` after `since` (a performance.now() reading), or at once when hurried or cut. */
  wait(since: number): Promise<void> {
    const left = since + this.ms - performance.now();
    if (left <= 0 || this.hurry > 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.release = resolve;
      this.timer = setTimeout(() => this.cut(), left);
      this.timer.unref();
    });
  }

  /** Ends the current wait, if any. */
  cut(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const release = this.release;
    this.release = null;
    release?.();
  }

  /** Runs `until` with every wait, current and coming, cut short. */
  async hurried<T>(until: () => Promise<T>): Promise<T> {
    this.hurry += 1;
    this.cut();
    try {
      return await until();
    } finally {
      this.hurry -= 1;
    }
  }
}
