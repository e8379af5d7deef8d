import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export interface ControlMetrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status">;
  httpDuration: Histogram<"method" | "route" | "status">;
  activeMeetings: Gauge;
}

/** A registry per app, never prom-client's global one: two apps in one process (tests, embedded) stay apart. */
export function createMetrics(): ControlMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "nexus_control_" });
  return {
    registry,
    httpRequests: new Counter({
      name: "nexus_control_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "nexus_control_http_request_duration_seconds",
      help: "HTTP request latency, by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    activeMeetings: new Gauge({
      name: "nexus_control_active_meetings",
      help: "Meetings in status active, counted in the database at scrape time",
      registers: [registry],
    }),
  };
}
