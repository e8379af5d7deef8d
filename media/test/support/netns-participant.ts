/**
 * A wrtc participant as its own process, so that it can run inside a network namespace
 * (`ip netns exec <ns> node --import tsx test/support/netns-participant.ts`). Reads NX_URL (signaling URL
 * with token) and NX_ICE (the join answer's ice_servers as JSON); joins, sends a camera, consumes everyone,
 * and prints one JSON line per second: its id, the selected candidate pairs and frames decoded per producer.
 */
import { Participant } from "./participant.js";

const url = process.env.NX_URL;
if (!url) throw new Error("NX_URL is required");
const p = await Participant.join(url);
p.iceServers = JSON.parse(process.env.NX_ICE ?? "[]") as RTCIceServer[];
await p.createTransports();
await p.produceCamera();
await p.consumeAll();

const report = async () => {
  const decoded: Record<string, number> = {};
  for (const producerId of p.consumers.keys())
    decoded[producerId] = (await p.inbound(producerId)).framesDecoded;
  const line = {
    id: p.id,
    camera: p.producers.get("camera")?.id,
    send: await p.selectedPair("send"),
    recv: await p.selectedPair("recv"),
    decoded,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const timer = setInterval(() => void report().catch(() => {}), 1000);
const stop = () => {
  clearInterval(timer);
  p.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.resume();
