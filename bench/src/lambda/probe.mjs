// One cold start, run in a fresh process: import the Lambda handler, answer one API Gateway v2 event,
// print the timings (ms since this process's time origin) as one JSON line, exit. Plain JS on purpose:
// the bundled handler is measured with nothing but `node`.
import { pathToFileURL } from "node:url";

const file = process.argv[2];
const { BENCH_MEETING_ID: meetingId, BENCH_TOKEN: token } = process.env;
if (!file || !meetingId || !token) {
  console.error("usage: BENCH_MEETING_ID=… BENCH_TOKEN=… node probe.mjs <handler module>");
  process.exit(2);
}

const started = performance.now();
const { handler } = await import(pathToFileURL(file).href);
const imported = performance.now();

const path = `/api/meetings/${meetingId}`;
const host = "bench.execute-api.eu-west-1.amazonaws.com";
const event = {
  version: "2.0",
  routeKey: "$default",
  rawPath: path,
  rawQueryString: "",
  headers: { host, authorization: `Bearer ${token}`, accept: "application/json" },
  requestContext: {
    accountId: "123456789012",
    apiId: "bench",
    domainName: host,
    domainPrefix: "bench",
    http: { method: "GET", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bench" },
    requestId: "cold-start-1",
    routeKey: "$default",
    stage: "$default",
    time: new Date().toUTCString(),
    timeEpoch: Date.now(),
  },
  isBase64Encoded: false,
};
const answer = await handler(event, {});
const answered = performance.now();

process.stdout.write(
  `${JSON.stringify({
    start_ms: started,
    import_ms: imported - started,
    first_answer_ms: answered - imported,
    total_ms: answered,
    status: answer.statusCode,
    id: JSON.parse(answer.body).id,
  })}\n`,
);
// The handler keeps its pool open for warm invocations; a cold-start sample ends here.
process.exit(0);
