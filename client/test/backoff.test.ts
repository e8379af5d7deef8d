import { isFinalClose } from "@nexus/shared/signaling/close-codes";
import { describe, expect, it } from "vitest";
import { backoffDelay } from "../src/backoff.js";

describe("backoffDelay", () => {
  it("tries at once first, then doubles from the base up to the cap, jittered over the upper half", () => {
    const top = () => 0.999999;
    const bottom = () => 0;
    const options = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, options, top)).toBe(0);
    expect([2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, options, top))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect([2, 3, 4].map((n) => backoffDelay(n, options, bottom))).toEqual([50, 100, 200]);
  });
});

describe("close codes", () => {
  it("reconnects after a drop, a host restart or a slow read, and not after an end, a denial or a takeover", () => {
    expect([1006, 1001, 4008, 1011].map(isFinalClose)).toEqual([false, false, false, false]);
    expect([4000, 4003, 4409, 4029].map(isFinalClose)).toEqual([true, true, true, true]);
  });
});
