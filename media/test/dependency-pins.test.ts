import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/*
 * PERFORMANCE.md lists every place that reaches into a dependency's internals for speed, with the exact
 * version each was written against. This fails when the installed version differs from that table.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function pinned(): Map<string, { version: string; guard: string }> {
  const doc = readFileSync(join(root, "PERFORMANCE.md"), "utf8");
  const rows = new Map<string, { version: string; guard: string }>();
  for (const line of doc.split("\n")) {
    const cells = line
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.length < 5 || cells[0] === "Package" || /^-+$/.test(cells[0] ?? "")) continue;
    rows.set(cells[0] as string, { version: cells[1] as string, guard: cells[4] as string });
  }
  return rows;
}

const installed = (pkg: string): string =>
  (JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")) as { version: string })
    .version;

describe("dependency pins in PERFORMANCE.md", () => {
  const rows = pinned();

  it("lists every dependency whose internals we rely on", () => {
    expect([...rows.keys()].sort()).toEqual([
      "drizzle-orm",
      "jose",
      "mediasoup",
      "uWebSockets.js",
      "valibot",
    ]);
  });

  it("uWebSockets.js is the trufflesuite fork", () => {
    const meta = JSON.parse(
      readFileSync(join(root, "node_modules", "uWebSockets.js", "package.json"), "utf8"),
    );
    expect(meta.name).toBe("@trufflesuite/uws-js-unofficial");
  });

  for (const [pkg, { version, guard }] of rows) {
    it(`${pkg} is still ${version}`, () => {
      const actual = installed(pkg);
      expect(
        actual,
        `${pkg} is ${actual}, PERFORMANCE.md was written against ${version}: re-check its entry in PERFORMANCE.md, re-run ${guard}, then update the version there`,
      ).toBe(version);
    });
  }
});
