import { describe, expect, it } from "vitest";
import { UsedTokens } from "../src/signal/used-tokens.js";

describe("UsedTokens", () => {
  it("refuses a token presented twice until it expires", () => {
    let now = 1_000;
    const used = new UsedTokens(() => now);
    expect(used.use("a", 5_000)).toBe(true);
    expect(used.use("a", 5_000)).toBe(false);
    expect(used.use("b", 5_000)).toBe(true);
    now = 5_000;
    // Expired: the token itself is refused for its expiry before it gets here; the id is free again.
    expect(used.use("a", 9_000)).toBe(true);
    expect(used.use("a", 9_000)).toBe(false);
  });

  it("drops expired ids and keeps live ones, with work proportional to the joins", () => {
    let now = 0;
    const used = new UsedTokens(() => now);
    const joins = 200_000;
    // A steady stream: one token a millisecond, each valid for 5 s, so about 5,000 are live at any time.
    let accepted = 0;
    let reusedRefused = 0;
    let reuses = 0;
    for (let i = 0; i < joins; i++) {
      now = i;
      if (used.use(`t${i}`, i + 5_000)) accepted++;
      // A token from 4 s ago is still live, and still refused, across every sweep.
      if (i >= 4_000 && i % 997 === 0) {
        reuses++;
        if (!used.use(`t${i - 4_000}`, i + 1_000)) reusedRefused++;
      }
    }
    expect(accepted).toBe(joins);
    expect(reuses).toBeGreaterThan(150);
    expect(reusedRefused).toBe(reuses);
    // Bounded by about twice the live tokens, not by the 200,000 seen.
    expect(used.size).toBeLessThanOrEqual(2 * 5_000 + 1);
    // Amortized O(1): sweeps visited a small multiple of the joins (a sweep per join above a fixed size,
    // as before, would have visited about 5,000 per join here: a billion).
    expect(used.swept).toBeLessThan(4 * joins);
  });
});
