import { MAX_CODECS, MAX_LIST, MAX_STRING } from "./media-types.js";
import { MAX_ID, type RequestData } from "./requests.js";

/*
 * Written-out checks for the requests whose valibot parse is a hot path: `consume` carries the client's RTP
 * capabilities (about 4 KB, some 40 objects) on every consume, and the generic schema walk cost about 25 µs
 * of a join's server CPU. Each check here only ever accepts what the request's schema accepts, and answers
 * the schema's output for it (the test holds both to that over valid and broken inputs); when it says no
 * (`undefined`), the server runs the schema itself, which then gives the client its precise error. So a check
 * may be stricter than its schema, never looser.
 */

const isStr = (x: unknown): x is string => typeof x === "string" && x.length <= MAX_STRING;
const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
const isId = (x: unknown): x is string => typeof x === "string" && x.length >= 1 && x.length <= MAX_ID;
const optional = (x: unknown, check: (y: unknown) => boolean) => x === undefined || check(x);

/**
 * A plain object as JSON.parse makes them, without the keys valibot leaves out of its output (`__proto__`,
 * `constructor`, `prototype`). For such an object a loose schema's output equals the input: the keys it names
 * are checked (and equal when they pass), the others are copied as they are, by reference.
 */
function isPlainRecord(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  if (proto !== Object.prototype && proto !== null) return false;
  return !Object.hasOwn(x, "__proto__") && !Object.hasOwn(x, "constructor") && !Object.hasOwn(x, "prototype");
}

function arrayOf(x: unknown, max: number, item: (y: unknown) => boolean): boolean {
  if (!Array.isArray(x) || x.length > max) return false;
  for (let i = 0; i < x.length; i++) if (!item(x[i])) return false;
  return true;
}

const isRtcpFeedback = (x: unknown): boolean =>
  isPlainRecord(x) && isStr(x.type) && optional(x.parameter, isStr);

function isCodecParameters(x: unknown): boolean {
  if (!isPlainRecord(x)) return false;
  for (const key in x) {
    const value = x[key];
    if (typeof value !== "string" && !isNum(value)) return false;
  }
  return true;
}

function isCodecCapability(x: unknown): boolean {
  return (
    isPlainRecord(x) &&
    (x.kind === "audio" || x.kind === "video") &&
    isStr(x.mimeType) &&
    optional(x.preferredPayloadType, isNum) &&
    isNum(x.clockRate) &&
    optional(x.channels, isNum) &&
    optional(x.parameters, isCodecParameters) &&
    optional(x.rtcpFeedback, (y) => arrayOf(y, MAX_LIST, isRtcpFeedback))
  );
}

const isHeaderExtension = (x: unknown): boolean => isPlainRecord(x) && isStr(x.uri) && isNum(x.preferredId);

export function isRtpCapabilities(x: unknown): boolean {
  return (
    isPlainRecord(x) &&
    optional(x.codecs, (y) => arrayOf(y, MAX_CODECS, isCodecCapability)) &&
    optional(x.headerExtensions, (y) => arrayOf(y, MAX_LIST, isHeaderExtension))
  );
}

/** `consume`'s data as its schema would answer it, or undefined: let the schema decide. */
export function fastConsumeData(data: unknown): RequestData<"consume"> | undefined {
  if (!isPlainRecord(data)) return undefined;
  const { transport_id, producer_id, rtp_capabilities } = data;
  if (!isId(transport_id) || !isId(producer_id) || !isRtpCapabilities(rtp_capabilities)) return undefined;
  return { transport_id, producer_id, rtp_capabilities } as RequestData<"consume">;
}

/** The written-out parses by request type; a type not here always goes through its schema. */
export const FAST_PARSE: { readonly [type: string]: ((data: unknown) => unknown) | undefined } = {
  consume: fastConsumeData,
};
