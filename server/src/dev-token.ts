import type { ControlConfig } from "@nexus/control";
import { noNul } from "@nexus/shared/text";
import { RoleSchema } from "@nexus/shared/tokens";
import { SignJWT } from "jose";
import * as v from "valibot";

const Text = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(128), noNul());

export const DevTokenBodySchema = v.object({
  tenant_id: Text,
  sub: Text,
  role: v.optional(RoleSchema, "member"),
  name: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(100), noNul())),
  ttl_seconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(60), v.maxValue(7 * 86_400)), 8 * 3600),
});
export type DevTokenBody = v.InferOutput<typeof DevTokenBodySchema>;

/**
 * Mints a user JWT the control plane accepts, for the web page's development sign-in form. Uses the
 * configured claim names so the token passes the same verifier as a real identity provider's would.
 */
export async function mintDevToken(
  auth: ControlConfig["auth"],
  body: DevTokenBody,
  now: Date,
): Promise<{ token: string; expires_at: string }> {
  if (!auth.secret) throw new Error("dev tokens need an HS256 secret (JWKS mode has none)");
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + body.ttl_seconds;
  const claims: Record<string, unknown> = {
    [auth.claims.tenant]: body.tenant_id,
    [auth.claims.role]: body.role,
  };
  if (body.name) claims[auth.claims.name] = body.name;
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(body.sub)
    .setIssuedAt(iat)
    .setExpirationTime(exp);
  if (auth.issuer) jwt = jwt.setIssuer(auth.issuer);
  if (auth.audience) jwt = jwt.setAudience(auth.audience);
  const token = await jwt.sign(new TextEncoder().encode(auth.secret));
  return { token, expires_at: new Date(exp * 1000).toISOString() };
}
