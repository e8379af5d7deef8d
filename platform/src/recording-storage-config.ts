import { isAbsolute, relative, resolve } from "node:path";
import * as v from "valibot";

/*
 * The recording storage settings, apart from the storage itself so that reading the configuration (control's
 * boot, a Lambda cold start) does not load the S3 client.
 */

export interface S3Settings {
  bucket: string;
  prefix: string;
  endpoint: string | undefined;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
}

export type RecordingStorageSettings =
  | { kind: "local"; dir: string }
  | ({ kind: "s3"; dir: string } & S3Settings);

const text = v.pipe(v.string(), v.trim(), v.minLength(1));
const EnvSchema = v.object({
  RECORDINGS_DIR: v.optional(text, "recordings"),
  RECORDINGS_STORAGE: v.optional(v.picklist(["local", "s3"]), "local"),
  RECORDINGS_S3_BUCKET: v.optional(text),
  RECORDINGS_S3_PREFIX: v.optional(v.string(), ""),
  RECORDINGS_S3_ENDPOINT: v.optional(v.pipe(text, v.url())),
  RECORDINGS_S3_REGION: v.optional(text, "us-east-1"),
  RECORDINGS_S3_ACCESS_KEY_ID: v.optional(text),
  RECORDINGS_S3_SECRET_ACCESS_KEY: v.optional(text),
  RECORDINGS_S3_FORCE_PATH_STYLE: v.optional(v.picklist(["0", "1", "true", "false"]), "0"),
});

/** Reads the storage settings (control and media hosts read the same variables); throws naming the problem. */
export function recordingStorageFromEnv(env: Record<string, string | undefined>): RecordingStorageSettings {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, val]) => val !== undefined && val !== ""),
  );
  const parsed = v.safeParse(EnvSchema, cleaned);
  if (!parsed.success) {
    const problems = parsed.issues.map((i) => `${v.getDotPath(i) ?? "env"}: ${i.message}`).join("; ");
    throw new Error(`invalid recording storage configuration: ${problems}`);
  }
  const e = parsed.output;
  if (e.RECORDINGS_STORAGE === "local") return { kind: "local", dir: e.RECORDINGS_DIR };
  if (!e.RECORDINGS_S3_BUCKET) throw new Error("RECORDINGS_STORAGE=s3 needs RECORDINGS_S3_BUCKET");
  return {
    kind: "s3",
    dir: e.RECORDINGS_DIR,
    bucket: e.RECORDINGS_S3_BUCKET,
    prefix: e.RECORDINGS_S3_PREFIX.replace(/^\/+/, ""),
    endpoint: e.RECORDINGS_S3_ENDPOINT,
    region: e.RECORDINGS_S3_REGION,
    accessKeyId: e.RECORDINGS_S3_ACCESS_KEY_ID,
    secretAccessKey: e.RECORDINGS_S3_SECRET_ACCESS_KEY,
    forcePathStyle: e.RECORDINGS_S3_FORCE_PATH_STYLE === "1" || e.RECORDINGS_S3_FORCE_PATH_STYLE === "true",
  };
}

/** A key under the local root; one that would lead outside it names no file of ours. */
export function localPath(root: string, key: string): string | null {
  const base = resolve(root);
  const path = resolve(base, key);
  const rel = relative(base, path);
  if (!key || rel === "" || rel.startsWith("..") || isAbsolute(rel)) return null;
  return path;
}
