import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { isMessageId, MessageIdSchema, RequestEnvelopeSchema, readEnvelope } from "./envelope.js";

const inputs: unknown[] = [
  { id: 1, type: "join-meeting", data: {} },
  { id: 0, type: "consume" },
  { id: "a", type: "x", data: null },
  { id: "x".repeat(64), type: "t".repeat(64), data: [1, 2] },
  { id: "x".repeat(65), type: "t" },
  { id: 1, type: "t".repeat(65) },
  { id: "", type: "t" },
  { id: 1, type: "" },
  { id: -1, type: "t" },
  { id: 1.5, type: "t" },
  { id: Number.MAX_SAFE_INTEGER, type: "t" },
  { id: Number.MAX_SAFE_INTEGER + 2, type: "t" },
  { id: Number.NaN, type: "t" },
  { id: Number.POSITIVE_INFINITY, type: "t" },
  { id: null, type: "t" },
  { id: true, type: "t" },
  { id: [1], type: "t" },
  { type: "t" },
  { id: 1 },
  { id: 1, type: 5 },
  { id: 1, type: "t", data: undefined },
  { id: 1, type: "t", data: "text", extra: "dropped", __proto__: { inherited: 1 } },
  JSON.parse('{"id": 2, "type": "t", "__proto__": {"polluted": true}}'),
  [],
  [1, "t"],
  null,
  undefined,
  "string",
  42,
  true,
];

describe("readEnvelope", () => {
  it.each(inputs.map((input) => [input]))("answers as RequestEnvelopeSchema does: %j", (input) => {
    const schema = v.safeParse(RequestEnvelopeSchema, input);
    const ours = readEnvelope(input);
    if (schema.success) expect(ours).toStrictEqual(schema.output);
    else expect(ours).toBeNull();
  });

  it("isMessageId answers as MessageIdSchema does", () => {
    for (const input of inputs.flatMap((x) => (x && typeof x === "object" && "id" in x ? [x.id] : [x]))) {
      expect(isMessageId(input)).toBe(v.is(MessageIdSchema, input));
    }
  });
});
