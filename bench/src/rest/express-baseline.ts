/**
 * The baseline: the REST stack the original service description names (Express 5 + pg + a JWT check),
 * written the plain way with Express defaults, serving the two benchmarked routes with the same query
 * shapes and answer shape as control/. It exists only to be measured against.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import {
  baselineConfig,
  createMeeting,
  createPool,
  createVerifier,
  errorBody,
  getMeeting,
  stopOnSignals,
  type User,
} from "./baseline-common.js";

const config = baselineConfig(process.env);
const pool = createPool(config.databaseUrl, config.poolMax);
const verify = createVerifier(config.secret);

// Express has no typed request context; a WeakMap keeps the user off `any`.
const users = new WeakMap<Request, User>();
const userOf = (req: Request) => users.get(req)!;

const app = express();
app.use(express.json({ limit: "64kb" }));

app.get("/health", async (_req, res) => {
  await pool.query("select 1");
  res.json({ status: "ok" });
});

app.use("/api", async (req: Request, _res: Response, next: NextFunction) => {
  users.set(req, await verify(req.get("authorization")));
  next();
});

app.get("/api/meetings/:id", async (req, res) => {
  res.status(200).json(await getMeeting(pool, userOf(req), String(req.params.id)));
});

app.post("/api/meetings", async (req, res) => {
  res.status(201).json(await createMeeting(pool, userOf(req), req.body));
});

app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
  const { status, body } = errorBody(err);
  res.status(status).json(body);
});

const server = app.listen(config.port, config.host);
stopOnSignals((done) => server.close(done), pool);
