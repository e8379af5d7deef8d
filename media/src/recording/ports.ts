import { createSocket, type Socket } from "node:dgram";

function bindUdp(port: number, ip: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, ip, () => resolve(socket));
  });
}

const closeSocket = (s: Socket) => new Promise<void>((r) => s.close(() => r()));

/**
 * A free even/odd pair of loopback UDP ports (RTP, RTCP) for a recorder process, chosen by the kernel. The
 * ports are released before ffmpeg binds them; a rare race with another process ends in the capture failing
 * to start (its listening check), which the recorder reports.
 */
export async function freeUdpPair(ip: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await bindUdp(0, ip);
    const port = first.address().port;
    if (port % 2 !== 0 || port >= 65535) {
      await closeSocket(first);
      continue;
    }
    const second = await bindUdp(port + 1, ip).catch(() => null);
    await closeSocket(first);
    if (second) {
      await closeSocket(second);
      return port;
    }
  }
  throw new Error("no free UDP port pair for the recorder");
}

/** True once something holds the port (the recorder process has opened its RTP socket). */
export async function portTaken(port: number, ip: string): Promise<boolean> {
  try {
    await closeSocket(await bindUdp(port, ip));
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EADDRINUSE";
  }
}
