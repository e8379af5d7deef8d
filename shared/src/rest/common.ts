import * as v from "valibot";
import { noNul, storableTimestamp } from "../text.js";

/** Query values arrive as strings; this accepts decimal digits only and yields a bounded integer. */
export const intQuery = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.digits(),
    v.transform(Number),
    v.number(),
    v.integer(),
    v.minValue(min),
    v.maxValue(max),
  );

export const IsoTimestampSchema = v.pipe(v.string(), v.isoTimestamp(), storableTimestamp());

/** `limit` (1..100, default 20) and an opaque `cursor` returned by the previous page. */
export const PageQuerySchema = v.object({
  limit: v.optional(intQuery(1, 100)),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(512), noNul())),
});

export const IdParamSchema = v.object({ id: v.string() });

export const FieldIssueSchema = v.object({ path: v.string(), message: v.string() });

export const ErrorBodySchema = v.object({
  error: v.object({
    code: v.string(),
    message: v.string(),
    request_id: v.optional(v.string()),
    fields: v.optional(v.array(FieldIssueSchema)),
  }),
});

/** A page of items plus the cursor of the next page (null on the last page). */
export const pageOf = <T extends v.GenericSchema>(item: T) =>
  v.object({ data: v.array(item), next_cursor: v.nullable(v.string()) });
