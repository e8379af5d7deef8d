import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { plainClone, useFastMediasoupClone } from "../src/sfu/mediasoup-clone.js";

describe("plainClone", () => {
  it("copies JSON-shaped data exactly, sharing nothing with the original", () => {
    const original = {
      codecs: [
        {
          kind: "video",
          mimeType: "video/VP8",
          clockRate: 90_000,
          parameters: { "x-google-start-bitrate": 1000 },
          rtcpFeedback: [{ type: "nack" }, { type: "nack", parameter: "pli" }],
        },
      ],
      headerExtensions: [{ uri: "urn:ietf:params:rtp-hdrext:sdes:mid", preferredId: 1 }],
      flag: true,
      nothing: null,
      missing: undefined,
    };
    const copy = plainClone(original);
    expect(copy).toStrictEqual(original);
    expect(copy).toStrictEqual(structuredClone(original));
    expect(copy.codecs).not.toBe(original.codecs);
    expect(copy.codecs[0]!.rtcpFeedback).not.toBe(original.codecs[0]!.rtcpFeedback);
    copy.codecs[0]!.parameters["x-google-start-bitrate"] = 1;
    expect(original.codecs[0]!.parameters["x-google-start-bitrate"]).toBe(1000);
  });

  it("hands values that are not plain data to structuredClone", () => {
    const date = new Date(5);
    const map = new Map([["a", 1]]);
    const bytes = new Uint8Array([1, 2, 3]);
    const copy = plainClone({ date, map, bytes, list: [date] });
    expect(copy.date).toBeInstanceOf(Date);
    expect(copy.date).not.toBe(date);
    expect(copy.date.getTime()).toBe(5);
    expect(copy.map).toStrictEqual(map);
    expect(copy.map).not.toBe(map);
    expect([...copy.bytes]).toEqual([1, 2, 3]);
    expect(copy.list[0]).toBeInstanceOf(Date);
  });

  it("replaces mediasoup's clone, keeping its contract for undefined and NaN", () => {
    expect(useFastMediasoupClone()).toBe(true);
    expect(useFastMediasoupClone()).toBe(true);
    const require = createRequire(import.meta.url);
    const utils = require(join(dirname(require.resolve("mediasoup")), "utils.js")) as {
      clone: (v: unknown) => unknown;
    };
    expect(utils.clone(undefined)).toBeUndefined();
    expect(Number.isNaN(utils.clone(Number.NaN))).toBe(true);
    const caps = { codecs: [{ mimeType: "audio/opus", clockRate: 48_000, channels: 2 }] };
    const copy = utils.clone(caps) as typeof caps;
    expect(copy).toStrictEqual(caps);
    expect(copy.codecs[0]).not.toBe(caps.codecs[0]);
  });
});
