export const WEB_DIST: string;
export const WEB_SOURCES: string[];
export function webBuildIsStale(): Promise<boolean>;
export function buildWeb(options?: { minify?: boolean; outdir?: string }): Promise<string>;
