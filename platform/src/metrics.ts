import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * A registry of its own (never prom-client's global one, so two apps in one process or one test file do not
 * collide) with the default process metrics under the given prefix, e.g. "nexus_control_".
 */
export function createMetricsRegistry(prefix: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  return registry;
}
