import { REQUESTS, type RequestType } from "@nexus/shared/signaling/requests";
import {
  arbitraryFor,
  capturingLogger,
  ERROR_LEVEL,
  fuzzRuns,
  fuzzSeed,
  rawFrame,
} from "@nexus/testkit/fuzz";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { eventually, type HostFixture, startHostFixture } from "./support/host-fixture.js";
import { connect, Participant } from "./support/participant.js";

type Client = Awaited<ReturnType<typeof connect>>["client"];

/**
 * Property-based fuzzing of the signaling protocol from the shared schemas (issue 16): every request type
 * with data generated from its schema (hostile leaves included) or any JSON, and raw frames, from a joined
 * member beside real participants exchanging media. Whatever comes in: every request is answered, success
 * or a typed error other than `internal`, nothing is logged at error level, the socket stays up; and
 * afterwards a fresh participant joins and decodes video.
 */
/** Generous: the cases are counted, never timed; a loaded machine only makes them slower. */
const FUZZ_TIMEOUT_MS = 300_000;

describe("signaling fuzzing", () => {
  let fx: HostFixture;
  let meetingId: string;
  let source: Participant;
  const log = capturingLogger("info");
  const open: { close(): void }[] = [];
  const TYPES = Object.keys(REQUESTS) as RequestType[];
  const tally = { requests: 0, frames: 0, sessions: 0, codes: new Map<string, number>() };
  let session: { client: Client; ws: WebSocket } | null = null;

  beforeAll(async () => {
    fx = await startHostFixture({
      logger: log.logger,
      // The fuzzer sends as fast as it can; the rate limit has its own tests.
      env: { MEDIA_RATE_PER_SEC: "1000000", MEDIA_RATE_BURST: "1000000", LOG_LEVEL: "info" },
    });
    meetingId = await fx.createMeeting();
    source = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    open.push(source);
    await source.createTransports();
    await source.produceAudio();
  });
  afterAll(async () => {
    session?.client.close();
    for (const c of open) c.close();
    await fx?.close();
    const codes = [...tally.codes.entries()].sort(([a], [b]) => a.localeCompare(b));
    console.info(
      `signaling fuzz: ${tally.requests} requests, ${tally.frames} raw frames, ${tally.sessions} sessions, answers ${JSON.stringify(codes)}`,
    );
  });

  /** A joined member's socket; a fresh one whenever the last was closed. */
  async function member(): Promise<{ client: Client; ws: WebSocket }> {
    if (session && session.ws.readyState === session.ws.OPEN) return session;
    session = await connect(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    tally.sessions += 1;
    await session.client.request("join-meeting", {});
    return session;
  }

  const errorsSince = (mark: number) => log.lines.slice(mark).filter((l) => l.level >= ERROR_LEVEL);

  it(
    "answers every generated request with success or a typed client error",
    async () => {
      const caseArb = fc
        .constantFrom(...TYPES)
        .chain((type) =>
          fc.tuple(
            fc.constant(type),
            fc.oneof(
              { arbitrary: arbitraryFor(REQUESTS[type].data), weight: 6 },
              { arbitrary: fc.jsonValue(), weight: 1 },
            ),
          ),
        );
      await fc.assert(
        fc.asyncProperty(caseArb, async ([type, data]) => {
          const { client } = await member();
          const mark = log.lines.length;
          let code = "ok";
          try {
            // biome-ignore lint/suspicious/noExplicitAny: the fuzzer sends what the schema may not accept
            await client.request(type, data as any);
          } catch (error) {
            code = String((error as { code?: unknown }).code);
          }
          tally.requests += 1;
          tally.codes.set(code, (tally.codes.get(code) ?? 0) + 1);
          const what = `${type} ${JSON.stringify(data)?.slice(0, 300)} -> ${code}`;
          expect(code, what).not.toBe("internal");
          expect(code, what).not.toBe("undefined");
          expect(errorsSince(mark), what).toEqual([]);
        }),
        { seed: fuzzSeed(), numRuns: fuzzRuns(2000) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "answers raw frames and keeps the socket",
    async () => {
      await fc.assert(
        fc.asyncProperty(rawFrame, async (frame) => {
          const s = await member();
          const mark = log.lines.length;
          s.ws.send(frame);
          // The next message is answered: the frame did not wedge the session.
          const id = `probe-${tally.frames}`;
          const answered = new Promise<unknown>((resolve) => {
            const onMessage = (data: WebSocket.RawData) => {
              const m = JSON.parse(String(data)) as { id?: unknown; error?: unknown };
              if (m.id !== id) return;
              s.ws.off("message", onMessage);
              resolve(m.error);
            };
            s.ws.on("message", onMessage);
          });
          s.ws.send(JSON.stringify({ id, type: "no-such-request", data: {} }));
          tally.frames += 1;
          expect(await answered).toMatchObject({ code: "bad_request" });
          expect(s.ws.readyState, JSON.stringify(frame.slice(0, 200))).toBe(s.ws.OPEN);
          expect(errorsSince(mark), frame.slice(0, 200)).toEqual([]);
        }),
        { seed: fuzzSeed(), numRuns: fuzzRuns(1500) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it("still lets a fresh participant join, and another decode its video", async () => {
    const sender = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    const viewer = await Participant.join(`${fx.host.wsUrl}/?token=${await fx.token(meetingId)}`);
    open.push(sender, viewer);
    await sender.createTransports();
    await viewer.createTransports();
    const video = await sender.produceCamera();
    await viewer.consume(video.id);
    await eventually("the viewer decodes the sender's video", async () => {
      return (await viewer.inbound(video.id)).framesDecoded > 0;
    });
    expect(log.lines.filter((l) => l.level >= ERROR_LEVEL)).toEqual([]);
  });
});
