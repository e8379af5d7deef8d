/**
 * WebSocket close codes of the signaling socket, the ones a client can act on. The media host closes with
 * them; clients read them here (a 4xxx code is ours, RFC 6455 leaves 4000-4999 to applications).
 */
export const CLOSE_CODES = {
  /** The host shut down (or restarted): reconnect, to this host or another. */
  shuttingDown: 1001,
  /** The meeting ended: do not reconnect. */
  meetingEnded: 4000,
  /** A host turned this participant away (denied at the lobby, or removed): do not reconnect. */
  denied: 4003,
  /** A message over the host's size limit (MEDIA_MAX_MESSAGE_BYTES): send smaller ones. */
  messageTooBig: 1009,
  /** The client did not read its socket and too much was waiting for it: reconnect and resume. */
  tooSlow: 4008,
  /** Too many messages in a row past the rate limit. */
  rateLimited: 4029,
  /** A newer connection took over this participant (a resume elsewhere): this one is done. */
  replaced: 4409,
} as const;

export type CloseCode = (typeof CLOSE_CODES)[keyof typeof CLOSE_CODES];

/**
 * Closes after which a client must not reconnect: the meeting is over for it, or another connection holds
 * its place. Every other close (a network drop 1006, 1001, tooSlow, ...) is worth a reconnect and resume.
 */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set<number>([
  CLOSE_CODES.meetingEnded,
  CLOSE_CODES.denied,
  CLOSE_CODES.replaced,
  CLOSE_CODES.rateLimited,
]);

export const isFinalClose = (code: number): boolean => FINAL_CLOSE_CODES.has(code);
