import { createHmac, timingSafeEqual } from "node:crypto";

/** `v1=<hex>`: HMAC-SHA256 keyed with the endpoint's secret over `${timestamp}.${body}`. */
export const signWebhook = (secret: string, timestamp: number, body: string): string =>
  `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;

/**
 * What a receiver does (documented for integrators, used by the tests): the signature matches and the
 * timestamp is within `toleranceSeconds` of `nowSeconds`, so a captured delivery cannot be replayed later.
 */
export function verifyWebhook(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds)
    return false;
  const expected = Buffer.from(signWebhook(secret, ts, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
