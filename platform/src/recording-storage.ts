import { createReadStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { localPath, type RecordingStorageSettings, type S3Settings } from "./recording-storage-config.js";

export * from "./recording-storage-config.js";

/**
 * Where finished recording files live. Recorders always write to the local RECORDINGS_DIR; with S3 the host
 * uploads each finished file and removes the local copy, and control reads from the bucket. Keys are relative
 * (`tenant/meeting/recording/track.webm`), the same in both.
 */
export interface RecordingStorage {
  readonly kind: "local" | "s3";
  /** Moves a finished local file under `key` (local storage: it is already there). */
  put(key: string, localPath: string, contentType: string): Promise<void>;
  /** Size in bytes, or null when there is no such file. */
  size(key: string): Promise<number | null>;
  /** The bytes start..end (inclusive) of the file. */
  read(key: string, start: number, end: number): Promise<ReadableStream>;
  remove(keys: string[]): Promise<void>;
}

class LocalStorage implements RecordingStorage {
  readonly kind = "local" as const;
  constructor(private readonly root: string) {}

  async put(): Promise<void> {}

  async size(key: string): Promise<number | null> {
    const path = localPath(this.root, key);
    if (!path) return null;
    return stat(path).then(
      (s) => (s.isFile() ? s.size : null),
      () => null,
    );
  }

  async read(key: string, start: number, end: number): Promise<ReadableStream> {
    const path = localPath(this.root, key);
    if (!path) throw new Error("no such file");
    return Readable.toWeb(createReadStream(path, { start, end })) as ReadableStream;
  }

  async remove(keys: string[]): Promise<void> {
    for (const key of keys) {
      const path = localPath(this.root, key);
      if (path) await rm(path, { force: true });
    }
  }
}

class S3Storage implements RecordingStorage {
  readonly kind = "s3" as const;
  private readonly client: S3Client;

  constructor(private readonly s: S3Settings) {
    this.client = new S3Client({
      region: s.region,
      endpoint: s.endpoint,
      forcePathStyle: s.forcePathStyle,
      // The SDK's default checksums send streamed bodies aws-chunked with a trailer, which S3-compatible
      // servers (s3rver, older MinIO, Ceph) store framing and all; checksums only where the API requires them.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      credentials:
        s.accessKeyId && s.secretAccessKey
          ? { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }
          : undefined,
    });
  }

  private key(key: string): string {
    return this.s.prefix ? `${this.s.prefix.replace(/\/+$/, "")}/${key}` : key;
  }

  async put(key: string, path: string, contentType: string): Promise<void> {
    const { size } = await stat(path);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.s.bucket,
        Key: this.key(key),
        Body: createReadStream(path),
        ContentLength: size,
        ContentType: contentType,
      }),
    );
    await rm(path, { force: true });
  }

  async size(key: string): Promise<number | null> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.s.bucket, Key: this.key(key) }),
      );
      return head.ContentLength ?? null;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return null;
      throw err;
    }
  }

  async read(key: string, start: number, end: number): Promise<ReadableStream> {
    const out = await this.client.send(
      new GetObjectCommand({ Bucket: this.s.bucket, Key: this.key(key), Range: `bytes=${start}-${end}` }),
    );
    if (!out.Body) throw new Error("empty object body");
    return out.Body.transformToWebStream();
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.client.send(
      new DeleteObjectsCommand({
        Bucket: this.s.bucket,
        Delete: { Objects: keys.map((k) => ({ Key: this.key(k) })) },
      }),
    );
  }
}

export function createRecordingStorage(settings: RecordingStorageSettings): RecordingStorage {
  return settings.kind === "s3" ? new S3Storage(settings) : new LocalStorage(settings.dir);
}
