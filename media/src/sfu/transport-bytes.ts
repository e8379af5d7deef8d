import type { types as ms } from "mediasoup";

type Stats = { bytesReceived: number; bytesSent: number };

/**
 * Bytes received and sent by this host's transports as monotonic totals. mediasoup reports per-transport
 * cumulative figures that vanish with the transport, so the last figures seen per transport are kept and
 * only their growth is added. A transport closed by the room is read one last time first (the stats request
 * goes down the worker channel ahead of the close, so the worker answers it); one that disappears some other
 * way (its worker died) keeps what was counted up to the previous read, and the totals never go down.
 * A WebRTC transport that never started ICE is not read on close: it has carried nothing.
 */
export class TransportBytes {
  received = 0;
  sent = 0;
  private readonly last = new Map<string, Stats>();
  private readonly closing = new Set<string>();

  /** Reads every live transport and adds what each has moved since it was last read. */
  async sample(transports: Iterable<ms.Transport>): Promise<void> {
    const live = [...transports];
    const stats = await Promise.all(live.map((t) => t.getStats().catch(() => [] as never[])));
    live.forEach((t, i) => {
      const s = stats[i]?.[0] as Stats | undefined;
      // Closed while this read was out: its final read (beforeClose) is later and counts it; adding this
      // one after that has cleared the transport's figures would count it twice.
      if (s && !t.closed) this.add(t.id, s);
    });
    const seen = new Set(live.map((t) => t.id));
    for (const id of this.last.keys()) if (!seen.has(id) && !this.closing.has(id)) this.last.delete(id);
  }

  /** Call right before closing a transport: its final figures are counted. Never throws. */
  beforeClose(transport: ms.Transport): void {
    if (transport.closed || this.closing.has(transport.id)) return;
    const id = transport.id;
    // A WebRTC transport whose ICE is still "new" never had a valid connectivity check (the state never
    // returns to "new", not even on an ICE restart), so no media went either way: nothing to read. A
    // listen-only participant's send transport, and any transport a client opens and leaves unused, close
    // without the extra worker request.
    if ((transport as Partial<ms.WebRtcTransport>).iceState === "new") {
      this.last.delete(id);
      return;
    }
    this.closing.add(id);
    transport
      .getStats()
      .then(([s]) => {
        if (s) this.add(id, s as Stats);
      })
      .catch(() => {})
      .finally(() => {
        this.closing.delete(id);
        this.last.delete(id);
      });
  }

  private add(id: string, s: Stats): void {
    const prev = this.last.get(id) ?? { bytesReceived: 0, bytesSent: 0 };
    // Two reads can resolve out of order: only growth counts, and the higher figure is remembered.
    const rx = Math.max(prev.bytesReceived, s.bytesReceived);
    const tx = Math.max(prev.bytesSent, s.bytesSent);
    this.received += rx - prev.bytesReceived;
    this.sent += tx - prev.bytesSent;
    this.last.set(id, { bytesReceived: rx, bytesSent: tx });
  }
}
