import * as v from "valibot";

export const HealthCheckSchema = v.object({
  status: v.picklist(["ok", "fail"]),
  latency_ms: v.number(),
  error: v.optional(v.string()),
});

export const HealthSchema = v.object({
  status: v.picklist(["ok", "degraded"]),
  checks: v.object({ database: HealthCheckSchema, bus: HealthCheckSchema }),
});
export type Health = v.InferOutput<typeof HealthSchema>;
