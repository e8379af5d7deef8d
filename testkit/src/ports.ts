import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/**
 * A loopback port the kernel just handed out. Another process could take it before the server binds it,
 * so callers that spawn a server retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("no port assigned"));
      });
    });
  });
}

const tryTcp = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
const tryUdp = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", () => resolve(false));
    socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
  });

/**
 * `count` consecutive loopback ports free for both UDP and TCP (a media host's RTC range), from a random start
 * in 24000-39999 so test files and other instances running side by side rarely collide (checked, not reserved).
 */
export async function freeRtcPorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 24_000 + Math.floor(Math.random() * (16_000 - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = (await tryTcp(p)) && (await tryUdp(p));
    if (ok) return base;
  }
  throw new Error("no free RTC port range");
}
