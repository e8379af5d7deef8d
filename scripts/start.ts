// `npm start`: the whole service in this one process, with the web client at http://127.0.0.1:8095.
import { ConfigError } from "@nexus/control";
import { startEmbedded } from "@nexus/server";
import { buildWeb, webBuildIsStale } from "../web/build.mjs";

if (await webBuildIsStale()) {
  const started = Date.now();
  await buildWeb();
  console.log(`web client built in ${Date.now() - started} ms`);
}

try {
  const app = await startEmbedded();
  const where =
    app.databaseKind === "pglite"
      ? `embedded database in ${process.env.DATA_DIR ?? "data"}/pglite`
      : "PostgreSQL";
  console.log(
    [
      "",
      `  NEXUS Meet is running at ${app.url}`,
      `  Open ${app.url} in Chromium, Chrome or Firefox (camera and microphone need localhost or HTTPS).`,
      process.env.NODE_ENV === "production"
        ? "  Sign in with a JWT from your identity provider."
        : "  Development sign-in: pick any tenant and user name in the form; `npm run token` prints a token too.",
      `  Media signaling: ${app.media.wsUrl}; data: ${where}. Ctrl+C stops everything.`,
      "",
    ].join("\n"),
  );
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
