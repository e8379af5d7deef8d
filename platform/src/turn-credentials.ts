import { createHmac } from "node:crypto";

export interface TurnCredential {
  /** `<unix expiry>:<user>`: the TURN server reads the expiry from the name and refuses it afterwards. */
  username: string;
  /** base64(HMAC-SHA1(secret, username)): the server recomputes it from its own copy of the secret. */
  credential: string;
  expiresAt: Date;
}

/**
 * Short-lived TURN credentials in the TURN REST API scheme (coturn's `use-auth-secret`): nothing long-lived
 * reaches the browser, and the server needs no user database, only the shared secret.
 */
export function mintTurnCredential(
  secret: string,
  user: string,
  ttlSeconds: number,
  now: Date,
): TurnCredential {
  const expiry = Math.floor(now.getTime() / 1000) + ttlSeconds;
  const username = `${expiry}:${user}`;
  const credential = createHmac("sha1", secret).update(username).digest("base64");
  return { username, credential, expiresAt: new Date(expiry * 1000) };
}
