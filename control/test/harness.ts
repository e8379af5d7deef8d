import { createDb, type Database } from "@nexus/drizzle";
import { type Bus, type HostRegistry, MemoryBus, MemoryHostRegistry, silentLogger } from "@nexus/platform";
import type { HostInfo } from "@nexus/shared/bus";
import { createTestDatabase, testPgUrl } from "@nexus/testkit";
import { SignJWT } from "jose";
import { afterAll, beforeAll } from "vitest";
import { createApp } from "../src/app.js";
import { createUserVerifier } from "../src/auth.js";
import { type ControlConfig, loadControlConfig } from "../src/config.js";
import { type ControlDeps, createJoinSigner } from "../src/deps.js";
import { createMetrics } from "../src/metrics.js";

export const SECRET = "control-test-secret-0123456789abcdef";
export const JOIN_SECRET = "control-join-secret-0123456789abcdef";

export interface Backend {
  name: "pglite" | "postgres";
  open(): Promise<{ database: Database; drop(): Promise<void> }>;
}

/** The same suites run against the embedded PGlite and a real PostgreSQL server. */
export const BACKENDS: Backend[] = [
  {
    name: "pglite",
    open: async () => {
      const database = createDb("memory://");
      await database.migrate();
      return { database, drop: () => database.close() };
    },
  },
  {
    name: "postgres",
    open: async () => {
      const t = await createTestDatabase(testPgUrl());
      return { database: t.database, drop: t.drop };
    },
  },
];

/**
 * A suite's usual set-up: before its tests, open `backend` and build an app on it, handed with the
 * database to `ready` (which keeps them and prepares what else the suite needs); after them, drop it.
 */
export function appPerSuite(
  backend: Backend,
  ready: (t: TestApp, database: Database) => void | Promise<void>,
): void {
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const opened = await backend.open();
    drop = opened.drop;
    await ready(makeApp(opened.database), opened.database);
  });
  afterAll(() => drop?.());
}

/** A clock tests move by hand; tokens and heartbeats are judged against it, never the wall clock. */
export class TestClock {
  constructor(public ms = Date.parse("2030-01-01T10:00:00.000Z")) {}
  now = () => new Date(this.ms);
  advance(ms: number) {
    this.ms += ms;
  }
  get seconds() {
    return Math.floor(this.ms / 1000);
  }
}

export const testConfig = (env: Record<string, string> = {}): ControlConfig =>
  loadControlConfig({
    NODE_ENV: "test",
    JWT_SECRET: SECRET,
    JOIN_TOKEN_SECRET: JOIN_SECRET,
    DATABASE_URL: "memory://",
    LOG_DIR: "-",
    ...env,
  });

export interface TestApp {
  app: ReturnType<typeof createApp>;
  deps: ControlDeps;
  clock: TestClock;
  bus: Bus;
  registry: HostRegistry;
  config: ControlConfig;
}

export function makeApp(
  database: Database,
  opts: {
    config?: ControlConfig;
    bus?: Bus;
    registry?: HostRegistry;
    clock?: TestClock;
    deps?: Partial<ControlDeps>;
  } = {},
): TestApp {
  const clock = opts.clock ?? new TestClock();
  const config = opts.config ?? testConfig();
  const bus = opts.bus ?? new MemoryBus();
  const registry = opts.registry ?? new MemoryHostRegistry(() => clock.ms);
  const deps: ControlDeps = {
    db: database.db,
    bus,
    registry,
    config,
    logger: silentLogger(),
    metrics: createMetrics(),
    now: clock.now,
    randomId: () => crypto.randomUUID(),
    verifier: createUserVerifier(config.auth),
    joinSigner: createJoinSigner(config.joinToken),
    ...opts.deps,
  };
  return { app: createApp(deps), deps, clock, bus, registry, config };
}

export interface TokenInput {
  sub?: string;
  tenant?: string;
  role?: string;
  name?: string;
  /** Extra or overriding claims (set a key to undefined to drop it). */
  claims?: Record<string, unknown>;
  secret?: string;
  clock?: TestClock;
  ttl?: number;
}

export async function userToken(input: TokenInput = {}): Promise<string> {
  const nowS = input.clock?.seconds ?? Math.floor(Date.parse("2030-01-01T10:00:00Z") / 1000);
  const payload: Record<string, unknown> = {
    tenant_id: input.tenant ?? "t1",
    role: input.role ?? "host",
    ...(input.name ? { name: input.name } : {}),
    ...input.claims,
  };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(input.sub ?? "alice")
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + (input.ttl ?? 3600))
    .sign(new TextEncoder().encode(input.secret ?? SECRET));
}

// biome-ignore lint/suspicious/noExplicitAny: tests read answers field by field and assert on them
export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** One HTTP round trip through app.request(); the body is parsed when it is JSON. */
// biome-ignore lint/suspicious/noExplicitAny: see Answer
export async function call<T = any>(
  t: Pick<TestApp, "app">,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers["Content-Type"] ??= "application/json";
  const res = await t.app.request(path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  if (res.headers.get("content-type")?.includes("json") && text) parsed = JSON.parse(text);
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export const host = (id: string, over: Partial<HostInfo> & { clock: TestClock }): HostInfo => {
  const { clock, ...rest } = over;
  return {
    id,
    ws_url: `ws://127.0.0.1:9/${id}`,
    capacity: 100,
    load: 0,
    rooms: 0,
    draining: false,
    heartbeat_at: clock.ms,
    ...rest,
  };
};

/** A fresh tenant per test keeps suites independent on a shared database. */
export const freshTenant = () => `tenant-${crypto.randomUUID().slice(0, 8)}`;

/** A logger that keeps every line it is given (see @nexus/testkit/fuzz). */
export { capturingLogger } from "@nexus/testkit/fuzz";
