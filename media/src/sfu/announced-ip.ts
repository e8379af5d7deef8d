import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";

/**
 * The IPv4 address of the interface that carries the default route (from /proc/net/route): what
 * `MEDIASOUP_ANNOUNCED_IP=auto` announces. On a VM with a public address that is the address browsers
 * reach; behind NAT it is not, and the boot warning says so.
 */
export function defaultRouteAddress(routeTable = "/proc/net/route"): string | null {
  let table: string;
  try {
    table = readFileSync(routeTable, "utf8");
  } catch {
    return null;
  }
  const routes = table
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 8 && cols[1] === "00000000" && cols[7] === "00000000")
    // Lowest metric first, as the kernel picks.
    .sort((a, b) => Number(a[6]) - Number(b[6]));
  for (const [iface] of routes) {
    const address = networkInterfaces()[iface ?? ""]?.find((a) => a.family === "IPv4" && !a.internal);
    if (address) return address.address;
  }
  return null;
}

/** Addresses a browser on the internet cannot reach: loopback, RFC 1918, CGNAT, link-local, unspecified. */
export function isNonPublicAddress(ip: string): boolean {
  const v4 = ip.match(/^(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168)
    );
  }
  const v6 = ip.toLowerCase();
  return v6 === "::" || v6 === "::1" || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6);
}

/** The boot warning of a production host that would give browsers an address they cannot reach, or null. */
export function announcedAddressWarning(options: {
  nodeEnv: string;
  announcedIp: string | undefined;
  listenIp: string;
}): string | null {
  const announced = options.announcedIp ?? options.listenIp;
  if (options.nodeEnv !== "production" || !isNonPublicAddress(announced)) return null;
  return `browsers are given ${announced}, a loopback or private address, for media: outside this network they cannot reach it; set MEDIASOUP_ANNOUNCED_IP to the public address (or auto), or rely on TURN`;
}
