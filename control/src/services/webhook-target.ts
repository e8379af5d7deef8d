import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP } from "node:net";

/**
 * Where a webhook may not go when private addresses are refused: loopback, private, link-local (cloud
 * metadata), carrier-grade NAT, multicast and reserved ranges. A tenant admin picks the URL, so without this
 * a webhook is a way to make the server call its own neighbours.
 */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  PRIVATE.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const)
  PRIVATE.addSubnet(net, prefix, "ipv6");

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return PRIVATE.check(mapped[1]!, "ipv4");
    return PRIVATE.check(address, "ipv6");
  }
  return PRIVATE.check(address, "ipv4");
}

/** A URL whose host is itself a private address (or localhost); names are judged when they resolve. */
export function isPrivateUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host.endsWith(".localhost") || isPrivateAddress(host);
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** dns.lookup that fails for private addresses: checked on the address connected to, so DNS rebinding cannot slip past. */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const list = addresses as LookupAddress[];
    const blocked = list.find((a) => isPrivateAddress(a.address));
    if (blocked) {
      const refusal = Object.assign(
        new Error(`refused: ${hostname} resolves to private address ${blocked.address}`),
        {
          code: "EPRIVATE",
        },
      );
      return callback(refusal, []);
    }
    if (options.all) return callback(null, list);
    const first = list[0];
    if (!first)
      return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), []);
    callback(null, first.address, first.family);
  });
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  allowPrivate: boolean;
}

/**
 * One POST; resolves with the status code once the answer's head arrives (its body is dropped). Redirects
 * are not followed: the registered URL is the one that answers.
 */
export function postWebhook(url: string, options: PostOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    if (!options.allowPrivate && isPrivateUrl(url)) {
      reject(new Error(`refused: ${target.hostname} is a private address`));
      return;
    }
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: "POST",
        headers: { ...options.headers, "content-length": String(Buffer.byteLength(options.body)) },
        signal: options.signal,
        ...(options.allowPrivate ? {} : { lookup: publicOnlyLookup as never }),
        agent: false,
      },
      (res) => {
        resolve(res.statusCode ?? 0);
        // The body is not read: a receiver dripping one forever must not hold the socket.
        res.on("error", () => {});
        res.destroy();
      },
    );
    req.on("error", reject);
    // Settle on the abort itself too, whatever phase the request is in (it is destroyed either way).
    const onAbort = () => {
      reject(options.signal.reason ?? new Error("aborted"));
      req.destroy();
    };
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener("abort", onAbort, { once: true });
    req.on("close", () => options.signal.removeEventListener("abort", onAbort));
    req.end(options.body);
  });
}
