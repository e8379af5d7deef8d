import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { RecordingTrack } from "@nexus/shared/rest/recordings";

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 15;

interface Tile {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Where each video goes: a grid, or with a screen share the screen large on the left and the others in a
 * column on the right. Even sizes (the encoder's 4:2:0 wants them).
 */
export function layout(videos: RecordingTrack[]): Tile[] {
  const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);
  const screenAt = videos.findIndex((t) => t.source === "screen");
  if (screenAt >= 0 && videos.length > 1) {
    const others = videos.length - 1;
    const sideW = even(WIDTH / 4);
    const sideH = even(HEIGHT / others);
    let row = 0;
    return videos.map((_t, i) =>
      i === screenAt
        ? { x: 0, y: 0, w: WIDTH - sideW, h: HEIGHT }
        : { x: WIDTH - sideW, y: sideH * row++, w: sideW, h: sideH },
    );
  }
  const cols = Math.ceil(Math.sqrt(videos.length));
  const rows = Math.ceil(videos.length / cols);
  const w = even(WIDTH / cols);
  const h = even(HEIGHT / rows);
  return videos.map((_t, i) => ({ x: (i % cols) * w, y: Math.floor(i / cols) * h, w, h }));
}

/**
 * The ffmpeg arguments that mix a recording's tracks into one MP4: every video scaled into its tile over a
 * black canvas, every audio delayed to its place and mixed; each track placed by its stored offset on the
 * recording's timeline. H.264 + AAC, re-encoded once (this is the only encoding recording does).
 */
export function compositeArgs(
  dir: string,
  tracks: RecordingTrack[],
  durationS: number,
  out: string,
): string[] {
  const ready = tracks.filter((t) => t.status === "ready" && t.file);
  const videos = ready.filter((t) => t.kind === "video");
  const audios = ready.filter((t) => t.kind === "audio");
  const inputs: string[] = [];
  const filters: string[] = [];
  const tiles = layout(videos);
  filters.push(`color=c=black:s=${WIDTH}x${HEIGHT}:r=${FPS}:d=${durationS.toFixed(3)}[base0]`);
  let n = 0;
  videos.forEach((t, i) => {
    inputs.push("-i", join(dir, t.file));
    const tile = tiles[i]!;
    const offset = (t.offset_ms / 1000).toFixed(3);
    filters.push(
      `[${n}:v]setpts=PTS-STARTPTS+${offset}/TB,scale=${tile.w}:${tile.h}:force_original_aspect_ratio=decrease,` +
        `pad=${tile.w}:${tile.h}:(ow-iw)/2:(oh-ih)/2[v${i}]`,
      `[base${i}][v${i}]overlay=${tile.x}:${tile.y}:eof_action=pass[base${i + 1}]`,
    );
    n++;
  });
  const audioLabels: string[] = [];
  audios.forEach((t, i) => {
    inputs.push("-i", join(dir, t.file));
    filters.push(`[${n}:a]asetpts=PTS-STARTPTS,adelay=${Math.max(0, Math.round(t.offset_ms))}:all=1[a${i}]`);
    audioLabels.push(`[a${i}]`);
    n++;
  });
  const maps = ["-map", `[base${videos.length}]`];
  if (audioLabels.length > 0) {
    filters.push(
      `${audioLabels.join("")}amix=inputs=${audioLabels.length}:normalize=0:duration=longest[aout]`,
    );
    maps.push("-map", "[aout]");
  }
  return [
    ...["-nostdin", "-hide_banner", "-loglevel", "error", "-y"],
    ...inputs,
    ...["-filter_complex", filters.join(";"), ...maps],
    ...[
      "-t",
      durationS.toFixed(3),
      "-c:v",
      "libx264",
      "-preset",
      "veryfast",
      "-crf",
      "28",
      "-pix_fmt",
      "yuv420p",
    ],
    ...(audioLabels.length > 0 ? ["-c:a", "aac", "-b:a", "96k"] : []),
    ...["-movflags", "+faststart", "-f", "mp4", out],
  ];
}

export interface CompositeResult {
  sizeBytes: number;
}

/** Runs one composite; rejects with ffmpeg's last words. `signal` aborts it (the host is closing). */
export function runComposite(
  ffmpegBin: string,
  args: string[],
  out: string,
  signal?: AbortSignal,
): Promise<CompositeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegBin, args, { stdio: ["ignore", "ignore", "pipe"], signal });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-2_000);
    });
    child.once("error", (err) => reject(err));
    child.once("exit", (code, sig) => {
      if (code !== 0) {
        reject(
          new Error(
            `composite ${sig ? `killed by ${sig}` : `exited with ${code}`}: ${stderr.trim().split("\n").slice(-2).join(" ")}`,
          ),
        );
        return;
      }
      stat(out).then((s) => resolve({ sizeBytes: s.size }), reject);
    });
  });
}

/** At most `size` jobs at once; the rest wait their turn in order. */
export class JobPool {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.size) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await job();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  get active(): number {
    return this.running;
  }
  get queued(): number {
    return this.waiting.length;
  }
}
