import type { IncomingMessage } from "node:http";
import { AppError } from "@nexus/shared/errors";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./deps.js";

/** Methods whose body, if any, nobody reads: no limit to enforce, and nothing to build for it. */
const BODYLESS = new Set(["GET", "HEAD", "OPTIONS"]);
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

function readLimited(incoming: IncomingMessage, limit: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (incoming.readableEnded) return resolve(Buffer.alloc(0));
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = () => {
      settled = true;
      incoming.off("data", onData);
      incoming.off("end", onEnd);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      // Stop buffering at once; @hono/node-server drains (or closes) what is left after the answer.
      if (size > limit) {
        settle();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      settle();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    // Stays attached: an abort after the answer must not become an unhandled stream error.
    incoming.on("error", (err) => {
      if (settled) return;
      settle();
      reject(err);
    });
  });
}

/**
 * Reads request bodies under a size limit. On @hono/node-server (c.env.incoming) the body is read
 * straight from the socket stream into Hono's body cache (as text), so the validators never
 * make node-server build a fetch Request and a web stream for it (the bulk of a POST's framework cost).
 * Elsewhere (Lambda, app.request in tests) the body is already a Request: Hono's bodyLimit does it.
 * Either way an oversized body is 413 payload_too_large and malformed JSON 400 bad_request.
 */
export function bodyReader(limit: number): MiddlewareHandler<AppEnv> {
  const tooLarge = () => new AppError("payload_too_large", `request body over ${limit} bytes`);
  const onRequest = bodyLimit({
    maxSize: limit,
    onError: () => {
      throw tooLarge();
    },
  });
  return async (c, next) => {
    if (BODYLESS.has(c.req.method)) return next();
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (!incoming || typeof incoming.on !== "function") return onRequest(c, next);

    const declared = incoming.headers["content-length"];
    if (declared !== undefined && Number(declared) > limit) throw tooLarge();
    const raw = await readLimited(incoming, limit, tooLarge);
    const mediaType = (incoming.headers["content-type"] ?? "").split(";")[0]!.trim();
    if (JSON_TYPE.test(mediaType)) {
      // Hono's json() parses its cached text (the validator answers 400 for malformed JSON as before);
      // a cached json entry would be re-serialised through a fetch Response instead.
      (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(raw.toString("utf8"));
    } else {
      const bytes = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
      (c.req.bodyCache as { arrayBuffer?: Promise<ArrayBuffer> }).arrayBuffer = Promise.resolve(
        bytes as ArrayBuffer,
      );
    }
    return next();
  };
}
