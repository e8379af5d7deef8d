import { vValidator } from "@hono/valibot-validator";
import { AppError, type FieldIssue } from "@nexus/shared/errors";
import { isUuid } from "@nexus/shared/ids";
import type { Context, ErrorHandler, NotFoundHandler, ValidationTargets } from "hono";
import { HTTPException } from "hono/http-exception";
import * as v from "valibot";
import type { AppEnv } from "./deps.js";

export const issuesToFields = (issues: readonly v.BaseIssue<unknown>[]): FieldIssue[] =>
  issues.map((i) => ({ path: v.getDotPath(i) ?? "", message: i.message }));

/** Valibot validation of one request part; a failure becomes 400 validation_failed naming each field. */
export const valid = <T extends v.GenericSchema, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
) =>
  vValidator(target, schema, (result) => {
    if (!result.success) {
      throw new AppError("validation_failed", `invalid request ${target}`, issuesToFields(result.issues));
    }
  });

/** Ids are uuids in the database; anything else cannot exist, so it is simply not found. */
export function uuidParam(c: Context<AppEnv>, name = "id"): string {
  const id = c.req.param(name) ?? "";
  if (!isUuid(id)) throw new AppError("not_found", "meeting not found");
  return id.toLowerCase();
}

function fromHttpException(err: HTTPException): AppError {
  switch (err.status) {
    case 400:
      return new AppError("bad_request", err.message || "bad request");
    case 401:
      return new AppError("unauthorized", err.message || "unauthorized");
    case 413:
      return new AppError("payload_too_large", "request body too large");
    default:
      return err.status >= 500
        ? new AppError("internal", "internal error")
        : new AppError("bad_request", err.message || "bad request");
  }
}

/** The one place errors become answers: `{ error: { code, message, request_id } }`, logged once. */
export const onError: ErrorHandler<AppEnv> = (err, c) => {
  const requestId = c.get("requestId");
  const log = c.get("log") ?? c.get("deps")?.logger;
  let appErr: AppError;
  if (err instanceof AppError) appErr = err;
  else if (err instanceof HTTPException) appErr = fromHttpException(err);
  else appErr = new AppError("internal", "internal error");

  if (appErr.status >= 500) log?.error({ err, code: appErr.code }, "request failed");
  else log?.info({ code: appErr.code, reason: appErr.message }, "request rejected");

  const body: Record<string, unknown> = { code: appErr.code, message: appErr.message, request_id: requestId };
  if (appErr.fields) body.fields = appErr.fields;
  return c.json({ error: body }, appErr.status as 400);
};

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  c.json(
    {
      error: {
        code: "not_found",
        message: `no route for ${c.req.method} ${c.req.path}`,
        request_id: c.get("requestId"),
      },
    },
    404,
  );
