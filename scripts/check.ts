// `npm run check -- --origin https://meet.example.com --token <JWT> [--ca root.crt]`: which paths to the
// deployment work from here (see scripts/check/connectivity.ts). Exits 1 when any path fails.
import { readFileSync } from "node:fs";
import { formatReport, runConnectivityCheck } from "./check/connectivity.js";

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const origin = arg("origin") ?? process.env.NEXUS_ORIGIN;
const token = arg("token") ?? process.env.NEXUS_TOKEN;
if (!origin || !token) {
  console.error(
    "usage: npm run check -- --origin https://meet.example.com --token <JWT with the host role> [--ca file.pem]",
  );
  process.exit(2);
}
const caFile = arg("ca");
const report = await runConnectivityCheck({
  origin,
  token,
  ...(caFile ? { ca: readFileSync(caFile, "utf8") } : {}),
});
console.log(formatReport(report));
process.exit(report.results.every((r) => r.ok) ? 0 : 1);
