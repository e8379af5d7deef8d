import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, type TestDatabase, testPgUrl } from "@nexus/testkit";
import { isTable } from "drizzle-orm";
import { getTableConfig, type PgTable } from "drizzle-orm/pg-core";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, MIGRATIONS_DIR, schema } from "../src/index.js";
import { actualShape, declaredShape, type Query } from "./schema-introspection.js";

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = dirname(here);
const tables: PgTable[] = (Object.values(schema) as unknown[]).filter((value): value is PgTable =>
  isTable(value),
);
const tableNames = tables.map((t) => getTableConfig(t).name).sort();

const SETTINGS = {
  mute_on_join: false,
  video_off_on_join: false,
  allow_screen_share: true,
  allow_multiple_screen_shares: false,
  allow_chat: true,
  empty_timeout_seconds: 300,
};

describe("committed migrations", () => {
  it("are up to date with the schema: drizzle-kit generate finds nothing to add", () => {
    // generate writes into its output folder, so it works on a copy; drizzle-kit wants relative paths.
    const work = mkdtempSync(join(tmpdir(), "nexus-drizzle-generate-"));
    try {
      cpSync(MIGRATIONS_DIR, join(work, "migrations"), { recursive: true });
      const schemaPath = relative(work, join(packageDir, "src", "schema", "index.ts"));
      writeFileSync(
        join(work, "drizzle.config.js"),
        `export default ${JSON.stringify({ dialect: "postgresql", schema: schemaPath, out: "./migrations" })};\n`,
      );
      const kit = join(packageDir, "..", "node_modules", ".bin", "drizzle-kit");
      const result = spawnSync(kit, ["generate", "--config", "drizzle.config.js"], {
        cwd: work,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 90_000,
      });
      const output = `${result.stdout}\n${result.stderr}`;
      expect(output).toContain("No schema changes, nothing to migrate");
      expect(readdirSync(join(work, "migrations")).sort()).toEqual(readdirSync(MIGRATIONS_DIR).sort());
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe("on PostgreSQL", () => {
  let t: TestDatabase;
  let client: pg.Client;
  const query: Query = async (sql, params) => (await client.query(sql, params)).rows;

  beforeAll(async () => {
    t = await createTestDatabase(testPgUrl(), { migrate: false });
    client = new pg.Client({ connectionString: t.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await t?.drop();
  });

  it("apply to an empty database and create exactly the schema's tables", async () => {
    await t.database.migrate();
    const rows = await query(
      "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
      [],
    );
    expect(rows.map((r) => r.table_name)).toEqual(tableNames);
  });

  it("apply again without error or change (idempotent)", async () => {
    await t.database.migrate();
    const applied = await query("select count(*)::int as n from drizzle.__drizzle_migrations", []);
    expect(applied[0]?.n).toBe(readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith(".sql")).length);
  });

  it.each(tableNames)(
    "give %s the columns, keys, indexes and foreign keys the schema declares",
    async (name) => {
      const table = tables.find((tb) => getTableConfig(tb).name === name)!;
      expect(await actualShape(query, name)).toEqual(declaredShape(table));
    },
  );

  it("cascade a meeting's deletion to its participants and messages, and number messages in order", async () => {
    const meetingId = "00000000-0000-4000-8000-0000000000aa";
    const { db } = t.database;
    await db
      .insert(schema.meetings)
      .values({ id: meetingId, tenantId: "t1", title: "m", settings: SETTINGS, createdBy: "u" });
    await db.insert(schema.participants).values({
      id: "00000000-0000-4000-8000-0000000000bb",
      tenantId: "t1",
      meetingId,
      userId: "u",
      displayName: "U",
    });
    for (const n of [1, 2, 3]) {
      await db.insert(schema.chatMessages).values({
        id: `00000000-0000-4000-8000-00000000000${n}`,
        tenantId: "t1",
        meetingId,
        senderUserId: "u",
        senderName: "U",
        content: `hello ${n}`,
      });
    }
    const seqs = (await query("select seq, content from chat_messages order by seq", [])).map(
      (r) => r.content,
    );
    expect(seqs).toEqual(["hello 1", "hello 2", "hello 3"]);
    await query("delete from meetings where id = $1", [meetingId]);
    const left = await query(
      "select (select count(*) from participants)::int as p, (select count(*) from chat_messages)::int as c",
      [],
    );
    expect(left).toEqual([{ p: 0, c: 0 }]);
  });
});

describe("on PGlite", () => {
  it("apply to an empty in-memory database and produce the same schema as on PostgreSQL", async () => {
    const database = createDb("memory://");
    try {
      await database.migrate();
      const client = (
        database.db as unknown as {
          $client: { query: (s: string, p: unknown[]) => Promise<{ rows: Array<Record<string, unknown>> }> };
        }
      ).$client;
      const query: Query = async (sql, params) => (await client.query(sql, params)).rows;
      const rows = await query(
        "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
        [],
      );
      expect(rows.map((r) => r.table_name)).toEqual(tableNames);
      for (const table of tables) {
        expect(await actualShape(query, getTableConfig(table).name)).toEqual(declaredShape(table));
      }
    } finally {
      await database.close();
    }
  });
});
