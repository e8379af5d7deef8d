// Branded ids: a MeetingId can never be passed where a ParticipantId is expected, though both are strings on the wire.
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type MeetingId = Brand<string, "MeetingId">;
export type TenantId = Brand<string, "TenantId">;
export type ParticipantId = Brand<string, "ParticipantId">;
export type HostId = Brand<string, "HostId">;
export type MessageId = Brand<string, "MessageId">;
export type RecordingId = Brand<string, "RecordingId">;

export type IdGenerator = () => string;

/** Default generator: random UUID v4 (the database columns are uuid). Tests may inject their own. */
export const randomId: IdGenerator = () => globalThis.crypto.randomUUID();

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID_RE.test(value);

export const asMeetingId = (v: string) => v as MeetingId;
export const asTenantId = (v: string) => v as TenantId;
export const asParticipantId = (v: string) => v as ParticipantId;
export const asHostId = (v: string) => v as HostId;
