/**
 * RFC 5545 iCalendar text for one meeting: CRLF line ends, lines folded at 75 octets (never inside a
 * UTF-8 sequence), TEXT values escaped. Pure: the route gathers the values.
 */
export interface InvitationEvent {
  /** Stable per meeting, so every update and the cancel replace the same calendar entry. */
  uid: string;
  sequence: number;
  method: "REQUEST" | "CANCEL";
  start: Date;
  /** Absent: one hour after the start. */
  end: Date | null;
  stamp: Date;
  created: Date | null;
  lastModified: Date | null;
  summary: string;
  description: string | null;
  joinUrl: string | null;
  organizer: { name: string; email: string };
  attendees: readonly string[];
}

const DEFAULT_DURATION_MS = 60 * 60 * 1000;

/** 20300102T100000Z */
export const icsDate = (d: Date): string =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

/** TEXT escaping (RFC 5545 3.3.11). */
export const escapeText = (s: string): string =>
  s
    .replace(/\\/g, "\\\\")
    .replace(/;/g, "\\;")
    .replace(/,/g, "\\,")
    .replace(/\r\n|\r|\n/g, "\\n");

/** A parameter value: quoted, with the characters a quoted value cannot hold dropped (RFC 5545 3.1). */
const paramValue = (s: string): string => `"${s.replace(/["\r\n\p{Cc}]/gu, "")}"`;

/** Folds a content line to at most 75 octets per physical line, continuation lines starting with a space. */
export function fold(line: string): string {
  const parts: string[] = [];
  let current = "";
  let octets = 0;
  let limit = 75;
  for (const ch of line) {
    const size = Buffer.byteLength(ch, "utf8");
    if (octets + size > limit) {
      parts.push(current);
      current = " ";
      octets = 1;
      limit = 75;
    }
    current += ch;
    octets += size;
  }
  parts.push(current);
  return parts.join("\r\n");
}

export function invitationIcs(e: InvitationEvent): string {
  const cancelled = e.method === "CANCEL";
  const end = e.end ?? new Date(e.start.getTime() + DEFAULT_DURATION_MS);
  const description = [e.description, e.joinUrl ? `Join: ${e.joinUrl}` : null].filter(Boolean).join("\n\n");
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//NEXUS Meet//Meetings//EN",
    "CALSCALE:GREGORIAN",
    `METHOD:${e.method}`,
    "BEGIN:VEVENT",
    `UID:${e.uid}`,
    `SEQUENCE:${e.sequence}`,
    `DTSTAMP:${icsDate(e.stamp)}`,
    `DTSTART:${icsDate(e.start)}`,
    `DTEND:${icsDate(end)}`,
    e.created ? `CREATED:${icsDate(e.created)}` : null,
    e.lastModified ? `LAST-MODIFIED:${icsDate(e.lastModified)}` : null,
    `SUMMARY:${escapeText(e.summary)}`,
    description ? `DESCRIPTION:${escapeText(description)}` : null,
    e.joinUrl ? `URL:${e.joinUrl}` : null,
    e.joinUrl ? `LOCATION:${escapeText(e.joinUrl)}` : null,
    `STATUS:${cancelled ? "CANCELLED" : "CONFIRMED"}`,
    "TRANSP:OPAQUE",
    `ORGANIZER;CN=${paramValue(e.organizer.name)}:mailto:${e.organizer.email}`,
    ...e.attendees.map(
      (email) =>
        `ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=${cancelled ? "FALSE" : "TRUE"}:mailto:${email}`,
    ),
    "END:VEVENT",
    "END:VCALENDAR",
  ];
  return `${lines
    .filter((l): l is string => l !== null)
    .map(fold)
    .join("\r\n")}\r\n`;
}
