// Types for verify.mjs.
export type VerifyResult = { ok: true } | { ok: false; reason: string };
export type Verify = (bin: string, ctx: { msDir?: string; env?: NodeJS.ProcessEnv }) => Promise<VerifyResult>;
export const verifyWorker: Verify;
