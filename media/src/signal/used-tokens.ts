/**
 * Join tokens are single use: the ids (jti) of tokens already presented, each kept until its token expires
 * (after that the token is refused for its expiry anyway).
 *
 * Expired ids are dropped in a sweep over the whole set, run when the set has doubled since the last sweep
 * (and at 1,024 entries at the least): each sweep visits n entries after at least n/2 insertions, so a join
 * costs O(1) amortized however many tokens are live. (Sweeping on every join above a fixed size made each join
 * walk every live token: on a busy host, thousands per join.)
 */
export class UsedTokens {
  static readonly MIN_SWEEP = 1024;
  private readonly seen = new Map<string, number>();
  private sweepAt = UsedTokens.MIN_SWEEP;
  /** Entries visited by sweeps so far (for tests). */
  swept = 0;

  constructor(private readonly now: () => number) {}

  get size(): number {
    return this.seen.size;
  }

  /** False when this jti was presented before and has not expired. */
  use(jti: string, expiresAtMs: number): boolean {
    const t = this.now();
    if (this.seen.size >= this.sweepAt) {
      this.swept += this.seen.size;
      for (const [id, exp] of this.seen) if (exp <= t) this.seen.delete(id);
      this.sweepAt = Math.max(UsedTokens.MIN_SWEEP, this.seen.size * 2);
    }
    const prior = this.seen.get(jti);
    if (prior !== undefined && prior > t) return false;
    this.seen.set(jti, expiresAtMs);
    return true;
  }
}
