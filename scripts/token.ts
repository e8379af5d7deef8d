/**
 * Mints a user JWT for development: npm run token -- --tenant t1 --sub alice --role host [--name Alice] [--ttl 3600]
 * Signed with the control plane's own settings (JWT_SECRET, claim names, issuer, audience), so what it
 * prints is exactly what the API accepts. Prints the token alone on stdout, for $(npm run -s token ...).
 */
import { parseArgs } from "node:util";
import { loadControlConfig } from "@nexus/control/config";
import { RoleSchema } from "@nexus/shared/tokens";
import { SignJWT } from "jose";
import * as v from "valibot";

const usage =
  "usage: npm run token -- --tenant <id> --sub <user> --role admin|host|member [--name <name>] [--ttl <seconds>]";

function fail(message: string): never {
  console.error(message);
  console.error(usage);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    tenant: { type: "string", default: "t1" },
    sub: { type: "string", default: "alice" },
    role: { type: "string", default: "host" },
    name: { type: "string" },
    ttl: { type: "string", default: "3600" },
    help: { type: "boolean", short: "h" },
  },
  strict: true,
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const role = v.safeParse(RoleSchema, values.role);
if (!role.success) fail(`--role must be admin, host or member (got ${values.role})`);
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0)
  fail(`--ttl must be a positive number of seconds (got ${values.ttl})`);
if (!values.tenant || !values.sub) fail("--tenant and --sub must not be empty");

const config = loadControlConfig(process.env);
if (!config.auth.secret)
  fail("JWKS_URL is set: tokens come from your identity provider, not from this command");

const claims: Record<string, unknown> = {
  [config.auth.claims.tenant]: values.tenant,
  [config.auth.claims.role]: role.output,
};
if (values.name) claims[config.auth.claims.name] = values.name;
const now = Math.floor(Date.now() / 1000);
let jwt = new SignJWT(claims)
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setSubject(values.sub)
  .setIssuedAt(now)
  .setExpirationTime(now + ttl);
if (config.auth.issuer) jwt = jwt.setIssuer(config.auth.issuer);
if (config.auth.audience) jwt = jwt.setAudience(config.auth.audience);

console.log(await jwt.sign(new TextEncoder().encode(config.auth.secret)));
