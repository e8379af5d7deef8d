import * as v from "valibot";

/*
 * mediasoup's own structures travel inside our messages unchanged (their keys stay camelCase, as both
 * mediasoup and mediasoup-client expect them). These schemas check the shape at the trust boundary and keep
 * every key (looseObject), so nothing the SFU needs is stripped; mediasoup validates the fine detail itself.
 */

/** Limits of the schemas below, shared with the written-out checks in fast-parse.ts. */
export const MAX_STRING = 512;
export const MAX_LIST = 64;
export const MAX_CODECS = 128;

const Str = v.pipe(v.string(), v.maxLength(MAX_STRING));
const SmallArray = <T extends v.GenericSchema>(item: T, max = MAX_LIST) =>
  v.pipe(v.array(item), v.maxLength(max));

export const MediaKindSchema = v.picklist(["audio", "video"]);
export type MediaKind = v.InferOutput<typeof MediaKindSchema>;

const RtcpFeedbackSchema = v.looseObject({ type: Str, parameter: v.optional(Str) });
/**
 * SDP fmtp parameters: mediasoup accepts string and number values only, so nothing nested gets as far as
 * its deep copy. Typed as mediasoup-client types them (values unknown), checked as mediasoup needs them.
 */
const CodecParametersSchema = v.pipe(
  v.record(v.string(), v.unknown()),
  v.check(
    (params) => Object.values(params).every((x) => typeof x === "string" || typeof x === "number"),
    "codec parameters are strings or numbers",
  ),
);

export const RtpCodecCapabilitySchema = v.looseObject({
  kind: MediaKindSchema,
  mimeType: Str,
  preferredPayloadType: v.optional(v.number()),
  clockRate: v.number(),
  channels: v.optional(v.number()),
  parameters: v.optional(CodecParametersSchema),
  rtcpFeedback: v.optional(SmallArray(RtcpFeedbackSchema)),
});

export const RtpCapabilitiesSchema = v.looseObject({
  codecs: v.optional(SmallArray(RtpCodecCapabilitySchema, MAX_CODECS)),
  headerExtensions: v.optional(SmallArray(v.looseObject({ uri: Str, preferredId: v.number() }))),
});
export type RtpCapabilitiesWire = v.InferOutput<typeof RtpCapabilitiesSchema>;

export const RtpParametersSchema = v.looseObject({
  mid: v.optional(Str),
  codecs: SmallArray(
    v.looseObject({
      mimeType: Str,
      payloadType: v.number(),
      clockRate: v.number(),
      channels: v.optional(v.number()),
      parameters: v.optional(CodecParametersSchema),
      rtcpFeedback: v.optional(SmallArray(RtcpFeedbackSchema)),
    }),
  ),
  headerExtensions: v.optional(SmallArray(v.looseObject({ uri: Str, id: v.number() }))),
  encodings: v.optional(SmallArray(v.looseObject({}), 8)),
  rtcp: v.optional(v.looseObject({ cname: v.optional(Str), reducedSize: v.optional(v.boolean()) })),
});
export type RtpParametersWire = v.InferOutput<typeof RtpParametersSchema>;

export const DtlsParametersSchema = v.looseObject({
  role: v.optional(v.picklist(["auto", "client", "server"])),
  fingerprints: SmallArray(v.looseObject({ algorithm: Str, value: Str }), 8),
});
export type DtlsParametersWire = v.InferOutput<typeof DtlsParametersSchema>;

export const IceParametersSchema = v.looseObject({
  usernameFragment: Str,
  password: Str,
  iceLite: v.optional(v.boolean()),
});
export type IceParametersWire = v.InferOutput<typeof IceParametersSchema>;

export const IceCandidateSchema = v.looseObject({
  foundation: Str,
  priority: v.number(),
  address: Str,
  protocol: v.picklist(["udp", "tcp"]),
  port: v.number(),
  type: Str,
  tcpType: v.optional(Str),
});
export type IceCandidateWire = v.InferOutput<typeof IceCandidateSchema>;
