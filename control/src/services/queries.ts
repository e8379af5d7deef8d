import { type Db, type MeetingSettings, meetings } from "@nexus/drizzle";
import { and, eq, gte, lte, type SQL, sql } from "drizzle-orm";
import { keysetOrder, type Position, pastCursorSql } from "./cursor.js";

type MeetingRow = typeof meetings.$inferSelect;
type MeetingStatus = MeetingRow["status"];

const ph = sql.placeholder;
/** Nullable timestamps go in as ISO text: drizzle's timestamp encoder cannot take a null placeholder. */
const tsParam = (name: string): SQL => sql`${ph(name)}::timestamptz`;
const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export interface NewMeeting {
  id: string;
  tenantId: string;
  title: string;
  description: string | null;
  scheduledStart: Date | null;
  scheduledEnd: Date | null;
  maxParticipants: number;
  isPublic: boolean;
  lobbyEnabled: boolean;
  passwordHash: string | null;
  settings: MeetingSettings;
  /** Default none. */
  invitees?: string[];
  createdBy: string;
  at: Date;
}

export interface ListFilter {
  tenantId: string;
  limit: number;
  status?: MeetingStatus | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  cursor?: Position | undefined;
}

const STATUS = 1;
const FROM = 2;
const TO = 4;
const CURSOR = 8;

/**
 * The hot meeting queries, built and prepared once per app instead of per request: Drizzle's query
 * building cost more CPU than the round trip itself. Every statement is tenant-scoped by construction.
 * Statement names are fixed per SQL text, so several apps on one pool share the server-side statements.
 */
export function createMeetingQueries(db: Db) {
  const buildById = () =>
    db
      .select()
      .from(meetings)
      .where(and(eq(meetings.tenantId, ph("tenantId")), eq(meetings.id, ph("id"))))
      .limit(1)
      .prepare("control_meeting_by_id");

  const buildInsert = () =>
    db
      .insert(meetings)
      .values({
        id: ph("id"),
        tenantId: ph("tenantId"),
        title: ph("title"),
        description: ph("description"),
        status: "scheduled",
        scheduledStart: tsParam("scheduledStart"),
        scheduledEnd: tsParam("scheduledEnd"),
        maxParticipants: ph("maxParticipants"),
        isPublic: ph("isPublic"),
        lobbyEnabled: ph("lobbyEnabled"),
        passwordHash: ph("passwordHash"),
        settings: ph("settings"),
        invitees: ph("invitees"),
        createdBy: ph("createdBy"),
        createdAt: tsParam("at"),
        updatedAt: tsParam("at"),
      })
      .returning()
      .prepare("control_meeting_insert");

  // Built on first use, so an app costs nothing until it serves, and one prepared statement per
  // combination of list filters present (at most 16): the SQL stays exactly what the filters ask for.
  let byId: ReturnType<typeof buildById> | undefined;
  let insert: ReturnType<typeof buildInsert> | undefined;
  const listVariants = new Map<number, ReturnType<typeof buildList>>();
  const buildList = (mask: number) => {
    const where: SQL[] = [eq(meetings.tenantId, ph("tenantId"))];
    if (mask & STATUS) where.push(eq(meetings.status, ph("status")));
    if (mask & FROM) where.push(gte(meetings.scheduledStart, tsParam("from")));
    if (mask & TO) where.push(lte(meetings.scheduledStart, tsParam("to")));
    if (mask & CURSOR) {
      where.push(pastCursorSql(meetings.createdAt, meetings.id, tsParam("cursorAt"), ph("cursorId"), "desc"));
    }
    return db
      .select()
      .from(meetings)
      .where(and(...where))
      .orderBy(...keysetOrder(meetings.createdAt, meetings.id, "desc"))
      .limit(ph("limit"))
      .prepare(`control_meeting_list_${mask}`);
  };

  return {
    async byId(tenantId: string, id: string): Promise<MeetingRow | undefined> {
      byId ??= buildById();
      const [row] = await byId.execute({ tenantId, id });
      return row;
    },
    async insert(m: NewMeeting): Promise<MeetingRow> {
      insert ??= buildInsert();
      const [row] = await insert.execute({
        id: m.id,
        tenantId: m.tenantId,
        title: m.title,
        description: m.description,
        scheduledStart: iso(m.scheduledStart),
        scheduledEnd: iso(m.scheduledEnd),
        maxParticipants: m.maxParticipants,
        isPublic: m.isPublic,
        lobbyEnabled: m.lobbyEnabled,
        passwordHash: m.passwordHash,
        settings: m.settings,
        invitees: m.invitees ?? [],
        createdBy: m.createdBy,
        at: m.at.toISOString(),
      });
      return row!;
    },
    /** Newest first; `limit` rows at most. */
    list(f: ListFilter): Promise<MeetingRow[]> {
      const mask = (f.status ? STATUS : 0) | (f.from ? FROM : 0) | (f.to ? TO : 0) | (f.cursor ? CURSOR : 0);
      let query = listVariants.get(mask);
      if (!query) {
        query = buildList(mask);
        listVariants.set(mask, query);
      }
      return query.execute({
        tenantId: f.tenantId,
        limit: f.limit,
        status: f.status,
        from: f.from?.toISOString(),
        to: f.to?.toISOString(),
        cursorAt: f.cursor?.at.toISOString(),
        cursorId: f.cursor?.id,
      });
    },
  };
}

export type MeetingQueries = ReturnType<typeof createMeetingQueries>;
