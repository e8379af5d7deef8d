import fc from "fast-check";
import pino, { type Logger } from "pino";

/*
 * Property-based fuzzing from the shared valibot schemas: an arbitrary for any schema, whose values are
 * mostly of the schema's shape with hostile leaves (NUL characters, lone surrogates, timestamps that do not
 * exist or that the database cannot store, numbers like 1e21, huge strings, ids that are not ids), now and
 * then a value of the wrong type, and sometimes any JSON at all. Valid values come out too, so a handler is
 * driven past validation into its real work.
 */

/** The parts of a valibot schema this walks (valibot keeps them as plain properties). */
interface SchemaNode {
  type: string;
  kind?: string;
  pipe?: SchemaNode[];
  entries?: Record<string, SchemaNode>;
  wrapped?: SchemaNode;
  options?: unknown[];
  item?: SchemaNode;
  literal?: unknown;
  requirement?: unknown;
  key?: SchemaNode;
  value?: SchemaNode;
}

const HOSTILE_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\uD800",
  "\uDFFF\uD800",
  "\u202Eevil",
  "'; drop table meetings; --",
  "<script>alert(1)</script>",
  "../../etc/passwd",
  "%00",
  "null",
  "undefined",
  "NaN",
  "1e21",
  "-1",
  "0x1F",
  "9".repeat(40),
  "𝕏".repeat(60),
  "x".repeat(5_000),
  "0000-01-01T00:00:00Z",
  "2030-02-31T10:00:00Z",
  "2030-13-01T00:00:00Z",
  "+275760-09-13T00:00:00.000Z",
  "-271821-04-20T00:00:00.000Z",
  "9999-12-31T23:59:59-23:59",
  "1899-12-31T23:59:59Z",
  "2030-01-15T10:00:00Z",
  "00000000-0000-0000-0000-000000000000",
];

const HOSTILE_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  1e21,
  -1e21,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  1e308,
  -1e308,
  5e-324,
];

const isoDate = fc
  .date({ min: new Date(-8_640_000_000_000_000), max: new Date(8_640_000_000_000_000), noInvalidDate: true })
  .map((d) => d.toISOString());

const anyJson = fc.jsonValue({ maxDepth: 2 });

/** A string for a schema: what its actions ask for, or something hostile. */
function stringFor(actions: SchemaNode[]): fc.Arbitrary<string> {
  const has = (t: string) => actions.some((a) => a.type === t);
  const picks: fc.Arbitrary<string>[] = [
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.constantFrom(...HOSTILE_STRINGS),
  ];
  if (has("iso_timestamp")) picks.push(isoDate, isoDate);
  if (has("uuid")) picks.push(fc.uuid(), fc.uuid());
  if (has("digits")) {
    picks.push(
      fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
      fc.integer({ min: 0, max: 200 }).map(String),
      fc.integer({ min: 0, max: 200 }).map(String),
    );
  }
  const max = actions.find((a) => a.type === "max_length")?.requirement;
  if (typeof max === "number") picks.push(fc.string({ minLength: max, maxLength: max + 2 }));
  return fc.oneof(...picks);
}

function numberFor(actions: SchemaNode[]): fc.Arbitrary<number> {
  const min = actions.find((a) => a.type === "min_value")?.requirement;
  const max = actions.find((a) => a.type === "max_value")?.requirement;
  const picks: fc.Arbitrary<number>[] = [
    fc.constantFrom(...HOSTILE_NUMBERS),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
  ];
  if (typeof min === "number" && typeof max === "number" && max - min < 1e9) {
    picks.push(fc.integer({ min, max }), fc.integer({ min: min - 2, max: max + 2 }));
  }
  return fc.oneof(...picks);
}

/** An arbitrary of values shaped like `schema` (see the module comment for how hostile they are). */
export function arbitraryFor(schema: unknown, depth = 0): fc.Arbitrary<unknown> {
  const node = schema as SchemaNode;
  const actions = node.pipe?.slice(1) ?? [];
  const shaped = shapedFor(node, actions, depth);
  // A wrong type now and then, anywhere in the tree.
  return fc.oneof({ arbitrary: shaped, weight: 12 }, { arbitrary: anyJson, weight: 1 });
}

function shapedFor(node: SchemaNode, actions: SchemaNode[], depth: number): fc.Arbitrary<unknown> {
  switch (node.type) {
    case "string":
      return stringFor(actions);
    case "number":
      return numberFor(actions);
    case "boolean":
      return fc.boolean();
    case "literal":
      return fc.constant(node.literal);
    case "picklist":
      return fc.oneof(fc.constantFrom(...(node.options as unknown[])), fc.string({ maxLength: 12 }));
    case "optional":
    case "nullish":
    case "exact_optional":
      return fc.oneof(fc.constant(undefined), arbitraryFor(node.wrapped, depth));
    case "nullable":
      return fc.oneof(fc.constant(null), arbitraryFor(node.wrapped, depth));
    case "union":
    case "variant":
      return fc.oneof(...(node.options as unknown[]).map((o) => arbitraryFor(o, depth)));
    case "array":
      return depth > 6 ? fc.constant([]) : fc.array(arbitraryFor(node.item, depth + 1), { maxLength: 4 });
    case "record":
      return fc.dictionary(fc.string({ maxLength: 8 }), arbitraryFor(node.value, depth + 1), { maxKeys: 3 });
    case "object":
    case "strict_object":
    case "loose_object":
    case "object_with_rest": {
      if (depth > 6) return fc.constant({});
      const entries = node.entries ?? {};
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, value] of Object.entries(entries)) model[key] = arbitraryFor(value, depth + 1);
      const record = fc.record(model, { requiredKeys: [] });
      // Sometimes a key nobody asked for (strict objects refuse it).
      return fc
        .tuple(record, fc.option(fc.tuple(fc.string({ maxLength: 10 }), anyJson), { freq: 6 }))
        .map(([value, extra]) => {
          const out: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
          if (extra && !(extra[0] in out)) out[extra[0]] = extra[1];
          return out;
        });
    }
    default:
      return anyJson;
  }
}

/** A query string from an object schema: each value the arbitrary gives, as text. */
export function queryFor(schema: unknown): fc.Arbitrary<string> {
  return arbitraryFor(schema).map((value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return "";
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(value))
      params.append(k, typeof v === "string" ? v : JSON.stringify(v));
    return params.toString();
  });
}

/** Raw WebSocket or HTTP body text: broken JSON, deep nesting, huge numbers, odd encodings. */
export const rawFrame: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  anyJson.map((v) => JSON.stringify(v)),
  fc.constantFrom(
    "{",
    "[]",
    "null",
    '{"id":1}',
    '{"id":1,"type":"join-meeting"}',
    '{"id":1e400,"type":"x","data":{}}',
    '{"id":"x","type":"__proto__","data":{}}',
    '{"id":1,"type":"constructor","data":{}}',
    '{"__proto__":{"polluted":true},"id":1,"type":"get-messages","data":{}}',
    `${"[".repeat(5_000)}${"]".repeat(5_000)}`,
    `{"id":1,"type":"get-stats","data":${'{"a":'.repeat(2_000)}1${"}".repeat(2_000)}}`,
  ),
);

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

/** pino's level number for `error`: nothing a client sends may be logged at or above it. */
export const ERROR_LEVEL = 50;

/** A pino logger that keeps every line (parsed), to assert on what was logged and how. */
export function capturingLogger(level = "debug"): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

/** The seed of every fuzz run unless FUZZ_SEED says otherwise: runs repeat, a failure replays. */
export const fuzzSeed = (): number => Number(process.env.FUZZ_SEED ?? 16_016);
/** Cases per class; FUZZ_RUNS scales a run up (nightly) or down. */
export const fuzzRuns = (ci: number): number => Number(process.env.FUZZ_RUNS ?? ci);
