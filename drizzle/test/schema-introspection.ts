import { getTableConfig, type PgTable } from "drizzle-orm/pg-core";

/** What a table looks like, in a shape both the Drizzle definitions and the database catalog can fill. */
export interface TableShape {
  columns: Record<string, { type: string; notNull: boolean; hasDefault: boolean; identity: boolean }>;
  primaryKey: string[];
  indexes: Record<string, { columns: string[]; partial: boolean; unique: boolean }>;
  foreignKeys: Record<
    string,
    { columns: string[]; references: string; foreignColumns: string[]; onDelete: string }
  >;
}

/** What the TypeScript schema declares. */
export function declaredShape(table: PgTable): TableShape {
  const config = getTableConfig(table);
  const shape: TableShape = { columns: {}, primaryKey: [], indexes: {}, foreignKeys: {} };
  for (const column of config.columns) {
    const identity = column.generatedIdentity !== undefined;
    shape.columns[column.name] = {
      type: column.getSQLType(),
      notNull: column.notNull,
      hasDefault: column.hasDefault && !identity,
      identity,
    };
    if (column.primary) shape.primaryKey.push(column.name);
  }
  for (const pk of config.primaryKeys) shape.primaryKey.push(...pk.columns.map((c) => c.name));
  for (const index of config.indexes) {
    const columns = index.config.columns.map((c) => ("name" in c ? (c.name ?? "<unnamed>") : "<expression>"));
    shape.indexes[index.config.name ?? "<unnamed>"] = {
      columns,
      partial: index.config.where !== undefined,
      unique: index.config.unique,
    };
  }
  for (const fk of config.foreignKeys) {
    const ref = fk.reference();
    shape.foreignKeys[fk.getName()] = {
      columns: ref.columns.map((c) => c.name),
      references: getTableConfig(ref.foreignTable).name,
      foreignColumns: ref.foreignColumns.map((c) => c.name),
      onDelete: fk.onDelete ?? "no action",
    };
  }
  return shape;
}

export type Query = (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

const ON_DELETE: Record<string, string> = {
  a: "no action",
  r: "restrict",
  c: "cascade",
  n: "set null",
  d: "set default",
};

/** What the migrated database actually has, read from information_schema and pg_catalog. */
export async function actualShape(query: Query, table: string): Promise<TableShape> {
  const shape: TableShape = { columns: {}, primaryKey: [], indexes: {}, foreignKeys: {} };
  const columns = await query(
    `select column_name, data_type, udt_name, is_nullable, column_default, is_identity
       from information_schema.columns where table_schema = 'public' and table_name = $1`,
    [table],
  );
  for (const c of columns) {
    shape.columns[String(c.column_name)] = {
      // An array column reads as ARRAY; its element type is the udt name without the leading underscore.
      type: c.data_type === "ARRAY" ? `${String(c.udt_name).replace(/^_/, "")}[]` : String(c.data_type),
      notNull: c.is_nullable === "NO",
      hasDefault: c.column_default !== null,
      identity: c.is_identity === "YES",
    };
  }
  const pk = await query(
    `select a.attname from pg_constraint k
       join pg_attribute a on a.attrelid = k.conrelid and a.attnum = any(k.conkey)
      where k.conrelid = $1::regclass and k.contype = 'p' order by a.attnum`,
    [table],
  );
  shape.primaryKey = pk.map((r) => String(r.attname));
  const indexes = await query(
    `select i.relname as name, x.indisunique as is_unique, x.indpred is not null as partial,
            array_to_string(array(
              select a.attname from unnest(x.indkey) with ordinality k(attnum, ord)
                join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
               order by k.ord), ',') as columns
       from pg_index x join pg_class i on i.oid = x.indexrelid
      where x.indrelid = $1::regclass and not x.indisprimary`,
    [table],
  );
  for (const r of indexes) {
    shape.indexes[String(r.name)] = {
      columns: String(r.columns).split(","),
      partial: Boolean(r.partial),
      unique: Boolean(r.is_unique),
    };
  }
  const fks = await query(
    `select k.conname, k.confdeltype, k.confrelid::regclass::text as references,
            array_to_string(array(select a.attname from unnest(k.conkey) with ordinality c(attnum, ord)
              join pg_attribute a on a.attrelid = k.conrelid and a.attnum = c.attnum order by c.ord), ',') as columns,
            array_to_string(array(select a.attname from unnest(k.confkey) with ordinality c(attnum, ord)
              join pg_attribute a on a.attrelid = k.confrelid and a.attnum = c.attnum order by c.ord), ',') as foreign_columns
       from pg_constraint k where k.conrelid = $1::regclass and k.contype = 'f'`,
    [table],
  );
  for (const r of fks) {
    shape.foreignKeys[String(r.conname)] = {
      columns: String(r.columns).split(","),
      references: String(r.references),
      foreignColumns: String(r.foreign_columns).split(","),
      onDelete: ON_DELETE[String(r.confdeltype)] ?? String(r.confdeltype),
    };
  }
  return shape;
}
