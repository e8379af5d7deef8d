import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, judge, runCapacity } from "../src/capacity.js";
import { loadClip, packetsIn } from "../src/clip.js";
import { type Report, runLoad, startService, stopService } from "../src/run.js";

const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const within = (actual: number, expected: number, fraction: number) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.ceil(expected * fraction));

describe("the load tester against the one-process service", () => {
  let service: Awaited<ReturnType<typeof startService>>;
  const tmp = mkdtempSync(join(tmpdir(), "loadtest-test-"));

  beforeAll(async () => {
    service = await startService(1);
  });
  afterAll(async () => {
    if (service) await stopService(service.child);
    rmSync(tmp, { recursive: true, force: true });
  });

  it("counts a known load: 4 subscribers of 2 publishers for 3 s get what the clip and the SFU say", async () => {
    const clip = await loadClip(300);
    const perPublisher = packetsIn(clip, 3);
    const report: Report = await runLoad({
      url: service.url,
      sfuPid: service.pid,
      meetings: 1,
      publishers: 2,
      subscribers: 4,
      duration: 3,
      videoKbps: 300,
    });
    const t = report.totals;
    expect(report.joins).toMatchObject({ ok: 6, failed: 0 });
    // Known from the clip alone: each publisher sends exactly its first 3 s.
    expect(perPublisher.video).toBeGreaterThan(100);
    expect(t.publisherSentPackets).toBe(2 * (perPublisher.video + perPublisher.audio));
    const expectedIn = 4 * 2 * (perPublisher.video + perPublisher.audio);
    expect(t.expectedReceivedPackets).toBe(expectedIn);
    // What the SFU says it received and sent, and what the receivers counted, within 2% of the known load.
    within(t.sfuReceivedPackets, t.publisherSentPackets, 0.02);
    within(t.sfuSentPackets, expectedIn, 0.02);
    within(t.receivedPackets, t.sfuSentPackets, 0.02);
    within(t.receivedPackets, expectedIn, 0.02);
    expect(t.lossFraction).toBeLessThan(0.02);
    // Bytes agree too: the receivers count the RTP the SFU sent them.
    within(t.receivedBytes, t.sfuSentBytes, 0.02);
    // The SFU and the generator were measured.
    expect(report.sfu.rssMbMax).toBeGreaterThan(0);
    expect(report.samples.length).toBeGreaterThan(0);
    expect(report.generator.rssMbMax).toBeGreaterThan(0);
    // The SFU's UDP sockets were found on this machine, so drops there can be told from drops elsewhere.
    expect(t.sfuSocketDrops).not.toBeNull();
    expect(t.sfuSocketDrops).toBeGreaterThanOrEqual(0);
  });

  it("smoke: the CLI runs a tiny meeting where publishers receive each other, prints progress and writes JSON + CSV", () => {
    const out = join(tmp, "report");
    const res = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        CLI,
        ...["--url", service.url, "--sfu-pid", String(service.pid), "--meetings", "2", "--publishers", "2"],
        ...[
          "--subscribers",
          "1",
          "--duration",
          "2",
          "--video-kbps",
          "300",
          "--publishers-receive",
          "--out",
          out,
        ],
      ],
      { encoding: "utf8", timeout: 200_000 },
    );
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/\[\s*\d+s media\] \| joined 6 /);
    expect(res.stdout).toMatch(/receivers got\s+\d+ pkt/);
    const files = readdirSync(out);
    const json = files.find((f) => f.endsWith(".json"));
    expect(files.some((f) => f.endsWith(".csv"))).toBe(true);
    const html = readFileSync(join(out, files.find((f) => f.endsWith(".html")) as string), "utf8");
    expect(html.match(/<svg class="plot"/g)).toHaveLength(3);
    expect(html).toContain("receivers got");
    const report = JSON.parse(readFileSync(join(out, json as string), "utf8")) as Report;
    // Per meeting: 2 publishers each receive the other, 1 subscriber receives both: 4 streams' worth.
    const per = report.totals.expectedPerPublisherPackets;
    expect(report.totals.expectedReceivedPackets).toBe(2 * 4 * per);
    within(report.totals.receivedPackets, 2 * 4 * per, 0.02);
    expect(report.joins.failed).toBe(0);
  });

  it("refuses a host other than loopback unless it was named explicitly, and bad sizes, before any traffic", async () => {
    await expect(
      runLoad({
        url: "http://192.0.2.1:8095",
        meetings: 1,
        publishers: 1,
        subscribers: 1,
        duration: 1,
        videoKbps: 300,
      }),
    ).rejects.toThrow(/refusing to load 192\.0\.2\.1/);
    await expect(
      runLoad({ url: service.url, meetings: 0, publishers: 1, subscribers: 1, duration: 1, videoKbps: 300 }),
    ).rejects.toThrow(/--meetings must be a whole number >= 1/);
    const res = spawnSync(process.execPath, ["--import", "tsx", CLI, "--meetings", "two"], {
      encoding: "utf8",
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/--meetings must be a number/);
  });

  it("names ffmpeg and how to install it when the clip must be recorded and ffmpeg is missing", () => {
    const res = spawnSync(
      process.execPath,
      ["--import", "tsx", CLI, "--url", service.url, "--clip-dir", join(tmp, "no-clips"), "--duration", "1"],
      { encoding: "utf8", env: { ...process.env, PATH: join(tmp, "empty-path") } },
    );
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(
      /ffmpeg \(with libvpx and libopus\) is not installed: .*apt-get install ffmpeg/,
    );
    expect(res.stderr).not.toMatch(/ENOENT/);
  });

  it("one capacity step: 3-person meetings and a webinar, figures behind the verdict, limits judged from the report", async () => {
    const result = await runCapacity({
      url: service.url,
      sfuPid: service.pid,
      meetingSize: 3,
      startMeetings: 1,
      stepMeetings: 1,
      maxSteps: 1,
      duration: 2,
      videoKbps: 300,
      workers: 1,
    });
    expect(result.steps).toHaveLength(1);
    const step = result.steps[0];
    if (!step) throw new Error("no step");
    expect(step.participants).toBe(3);
    // Everyone receives the two others: 3 x 2 streams of exactly the clip's first 2 s.
    const t = step.report.totals;
    expect(t.expectedReceivedPackets).toBe(3 * 2 * t.expectedPerPublisherPackets);
    expect(step.outboundPacketsPerSec).toBe(t.sfuSentPackets / 2);
    expect(step.outboundPacketsPerSec).toBeGreaterThan(0);
    // Whatever this (shared, busy) machine allowed, the verdict and the broken limits agree.
    if (step.broken.length === 0) {
      expect(result.largest).toBe(step);
      expect(result.verdict).toMatch(/no limit broke within 1 step/);
    } else {
      expect(result.largest).toBeNull();
      expect(result.verdict).toContain(step.broken[0]);
    }

    // The webinar shape steps subscribers of one publisher.
    const webinar = await runCapacity({
      shape: "webinar",
      url: service.url,
      sfuPid: service.pid,
      meetingSize: 0,
      startMeetings: 2,
      stepMeetings: 2,
      maxSteps: 1,
      duration: 2,
      videoKbps: 300,
      workers: 1,
    });
    const w = webinar.steps[0];
    expect(w?.participants).toBe(3);
    expect(w?.report.options).toMatchObject({ meetings: 1, publishers: 1, subscribers: 2 });
    expect(w?.report.totals.expectedReceivedPackets).toBe(
      2 * (w?.report.totals.expectedPerPublisherPackets ?? -1),
    );

    // The same report judged against changed figures: each limit names itself and its owner.
    const base = step.report;
    const variant = (totals: Partial<Report["totals"]>, rest: Partial<Report> = {}): Report => ({
      ...base,
      ...rest,
      joins: { ...base.joins, failed: 0, p99Ms: 10 },
      generator: { ...base.generator, saturated: false },
      sfu: { ...base.sfu, cpuPctAvg: 10 },
      totals: { ...base.totals, lossFraction: 0, ...totals },
    });
    expect(judge(variant({}), DEFAULT_LIMITS, 1).broken).toEqual([]);
    const ingress = judge(
      variant({ lossFraction: 0.05, ingressLossFraction: 0.05, egressLossFraction: 0 }),
      DEFAULT_LIMITS,
      1,
    );
    expect(ingress.limitedBy).toBe("sfu");
    expect(ingress.broken[0]).toMatch(/loss 5\.00% > 1%, mostly between the publishers and the SFU/);
    const egress = judge(
      variant({ lossFraction: 0.05, ingressLossFraction: 0, egressLossFraction: 0.05 }),
      DEFAULT_LIMITS,
      1,
    );
    expect(egress.limitedBy).toBe("generator");
    const cpu = judge({ ...variant({}), sfu: { ...base.sfu, cpuPctAvg: 90 } }, DEFAULT_LIMITS, 1);
    expect(cpu.broken[0]).toMatch(/SFU CPU 90% > 85%/);
    expect(cpu.limitedBy).toBe("sfu");
    expect(judge({ ...variant({}), sfu: { ...base.sfu, cpuPctAvg: 90 } }, DEFAULT_LIMITS, 2).broken).toEqual(
      [],
    );
    const slowJoin = judge(
      { ...variant({}), joins: { ...base.joins, failed: 0, p99Ms: 1500 } },
      DEFAULT_LIMITS,
      1,
    );
    expect(slowJoin.broken[0]).toMatch(/join p99 1500 ms > 1000 ms/);
    const saturated = judge(
      { ...variant({}), generator: { ...base.generator, saturated: true } },
      DEFAULT_LIMITS,
      1,
    );
    expect(saturated.limitedBy).toBe("generator");
  });
});
