import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { FAST_PARSE, fastConsumeData } from "./fast-parse.js";
import { REQUESTS } from "./requests.js";

/** Part of what mediasoup 3 answers as a router's capabilities for our codecs (opus, VP8 with RTX, H264). */
const CAPS = {
  codecs: [
    {
      kind: "audio",
      mimeType: "audio/opus",
      clockRate: 48000,
      channels: 2,
      preferredPayloadType: 100,
      parameters: {},
      rtcpFeedback: [{ type: "nack", parameter: "" }, { type: "transport-cc" }],
    },
    {
      kind: "video",
      mimeType: "video/VP8",
      clockRate: 90000,
      preferredPayloadType: 101,
      parameters: {},
      rtcpFeedback: [
        { type: "nack" },
        { type: "nack", parameter: "pli" },
        { type: "ccm", parameter: "fir" },
        { type: "goog-remb" },
        { type: "transport-cc" },
      ],
    },
    {
      kind: "video",
      mimeType: "video/rtx",
      clockRate: 90000,
      preferredPayloadType: 102,
      parameters: { apt: 101 },
    },
    {
      kind: "video",
      mimeType: "video/H264",
      clockRate: 90000,
      preferredPayloadType: 105,
      parameters: { "level-asymmetry-allowed": 1, "packetization-mode": 1, "profile-level-id": "4d0032" },
      rtcpFeedback: [{ type: "nack" }],
    },
  ],
  headerExtensions: [
    {
      kind: "audio",
      uri: "urn:ietf:params:rtp-hdrext:sdes:mid",
      preferredId: 1,
      preferredEncrypt: false,
      direction: "sendrecv",
    },
    {
      kind: "video",
      uri: "urn:3gpp:video-orientation",
      preferredId: 11,
      preferredEncrypt: false,
      direction: "sendrecv",
    },
  ],
};

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const T = "11111111-2222-3333-4444-555555555555";

/** The valid request, then one broken copy per mutation: wrong types, limits, missing keys, prototypes. */
function corpus(): unknown[] {
  const base = { transport_id: T, producer_id: T, rtp_capabilities: CAPS };
  const out: unknown[] = [clone(base), { ...clone(base), extra: "dropped by the schema" }];
  const mutate = (f: (d: ReturnType<typeof clone<typeof base>> & Record<string, unknown>) => void) => {
    const d = clone(base) as ReturnType<typeof clone<typeof base>> & Record<string, unknown>;
    f(d);
    out.push(d);
  };
  const bad: unknown[] = [
    null,
    undefined,
    "",
    "x".repeat(513),
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    true,
    [],
    {},
    [1],
    { a: { b: 1 } },
  ];
  for (const value of bad) {
    mutate((d) => Object.assign(d, { transport_id: value }));
    mutate((d) => Object.assign(d, { producer_id: value }));
    mutate((d) => Object.assign(d, { rtp_capabilities: value }));
    mutate((d) => Object.assign(d.rtp_capabilities, { codecs: value }));
    mutate((d) => Object.assign(d.rtp_capabilities, { headerExtensions: value }));
    mutate((d) => Object.assign(d.rtp_capabilities, { unknownKey: value }));
    for (const key of [
      "kind",
      "mimeType",
      "clockRate",
      "preferredPayloadType",
      "channels",
      "parameters",
      "rtcpFeedback",
    ]) {
      mutate((d) => Object.assign(d.rtp_capabilities.codecs[0]!, { [key]: value }));
      mutate((d) => Object.assign(d.rtp_capabilities.codecs[3]!, { [key]: value }));
    }
    mutate((d) => Object.assign(d.rtp_capabilities.codecs[3]!.parameters!, { "profile-level-id": value }));
    mutate((d) => Object.assign(d.rtp_capabilities.codecs[1]!.rtcpFeedback![1]!, { type: value }));
    mutate((d) => Object.assign(d.rtp_capabilities.codecs[1]!.rtcpFeedback![1]!, { parameter: value }));
    mutate((d) => Object.assign(d.rtp_capabilities.headerExtensions[0]!, { uri: value }));
    mutate((d) => Object.assign(d.rtp_capabilities.headerExtensions[0]!, { preferredId: value }));
    mutate((d) => Object.assign(d.rtp_capabilities.headerExtensions[1]!, { direction: value }));
    mutate((d) => {
      d.rtp_capabilities.codecs[2] = value as never;
    });
  }
  for (const key of ["transport_id", "producer_id", "rtp_capabilities"]) mutate((d) => delete d[key]);
  for (const key of ["kind", "mimeType", "clockRate"])
    mutate((d) => delete (d.rtp_capabilities.codecs[1] as never)[key]);
  mutate((d) => delete (d.rtp_capabilities.headerExtensions[0] as never as Record<string, unknown>).uri);
  mutate((d) => delete (d.rtp_capabilities as Record<string, unknown>).codecs);
  mutate((d) => delete (d.rtp_capabilities as Record<string, unknown>).headerExtensions);
  // Limits: 128 codecs, 64 header extensions, 64 feedback entries, 128-character ids, 512-character strings.
  mutate((d) => {
    d.rtp_capabilities.codecs = Array.from({ length: 128 }, () => clone(CAPS.codecs[1]!));
  });
  mutate((d) => {
    d.rtp_capabilities.codecs = Array.from({ length: 129 }, () => clone(CAPS.codecs[1]!));
  });
  mutate((d) => {
    d.rtp_capabilities.headerExtensions = Array.from({ length: 65 }, () => clone(CAPS.headerExtensions[0]!));
  });
  mutate((d) => {
    d.rtp_capabilities.codecs[1]!.rtcpFeedback = Array.from({ length: 65 }, () => ({ type: "nack" }));
  });
  mutate((d) => Object.assign(d, { transport_id: "t".repeat(128) }));
  mutate((d) => Object.assign(d, { transport_id: "t".repeat(129) }));
  mutate((d) => Object.assign(d.rtp_capabilities.codecs[0]!, { mimeType: "m".repeat(512) }));
  // Keys valibot leaves out of its output, as JSON.parse makes them (own properties).
  for (const where of [
    '"parameters":{',
    '"rtcpFeedback":[{',
    '"headerExtensions":[{',
    '"rtp_capabilities":{',
    "{",
  ]) {
    for (const key of ["__proto__", "constructor", "prototype"]) {
      const json = JSON.stringify(base);
      const at = json.indexOf(where) + where.length;
      const text = `${json.slice(0, at)}"${key}":{"x":1}${json[at] === "}" ? "" : ","}${json.slice(at)}`;
      out.push(JSON.parse(text));
    }
  }
  // Deep nesting under a loose object's unknown key (kept as it is by the schema).
  mutate((d) =>
    Object.assign(d.rtp_capabilities.codecs[0]!, {
      nested: JSON.parse(`${"[".repeat(200)}${"]".repeat(200)}`),
    }),
  );
  out.push(Object.create({ inherited: 1 }));
  return out;
}

describe("fastConsumeData", () => {
  const inputs = corpus();

  it("accepts only what the consume schema accepts, and answers the schema's output", () => {
    let accepted = 0;
    let refusedBoth = 0;
    for (const input of inputs) {
      const schema = v.safeParse(REQUESTS.consume.data, input);
      const fast = fastConsumeData(input);
      if (fast !== undefined) {
        accepted++;
        expect(schema.success, JSON.stringify(input)?.slice(0, 200)).toBe(true);
        expect(fast).toEqual(schema.output);
      } else if (!schema.success) refusedBoth++;
    }
    // The valid requests take the fast path (it would be useless otherwise) and most broken ones are refused
    // by both; the few the fast check leaves to the schema are those it is stricter on (Infinity, the keys
    // valibot drops).
    expect(accepted).toBeGreaterThanOrEqual(10);
    expect(refusedBoth).toBeGreaterThan(inputs.length / 2);
  });

  it("takes the request a real client sends", () => {
    const request = { transport_id: T, producer_id: T, rtp_capabilities: clone(CAPS) };
    expect(fastConsumeData(request)).toEqual(v.parse(REQUESTS.consume.data, request));
    expect(FAST_PARSE.consume).toBe(fastConsumeData);
  });
});
