export type IdGenerator = () => string;

/** Default generator: random UUID v4 (the database columns are uuid). Tests may inject their own. */
export const randomId: IdGenerator = () => globalThis.crypto.randomUUID();

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID_RE.test(value);
