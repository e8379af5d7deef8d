// Types for prebuilt.mjs.
import type { Log } from "./run.mjs";

export type Download = (ctx: { version: string; env: NodeJS.ProcessEnv; log: Log }) => Promise<string | null>;
export const DOWNLOAD_DIR_PREFIX: string;
export const downloadPrebuilt: Download;
export function prebuiltAssetName(version: string, platform?: string, arch?: string): string;
export function extractFromTar(tar: Buffer, wanted: string): Buffer | null;
