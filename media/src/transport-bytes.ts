import type { types as ms } from "mediasoup";

type Stats = { bytesReceived: number; bytesSent: number };

/**
 * Bytes received and sent by this host's transports as monotonic totals. mediasoup reports per-transport
 * cumulative figures that vanish with the transport, so the last figures seen per transport are kept and
 * only their growth is added. A transport closed by the room is read one last time first (the stats request
 * goes down the worker channel ahead of the close, so the worker answers it); one that disappears some other
 * way (its worker died) keeps what was counted up to the previous read, and the totals never go down.
 */
export class TransportBytes {
  received = 0;
  sent = 0;
  private readonly last = new Map<string, Stats>();
  private readonly closing = new Set<string>();
  private readonly finals = new Set<Promise<void>>();

  /** Reads every live transport and adds what each has moved since it was last read. */
  async sample(transports: Iterable<ms.Transport>): Promise<void> {
    const live = [...transports];
    const stats = await Promise.all(live.map((t) => t.getStats().catch(() => [] as never[])));
    live.forEach((t, i) => {
      const s = stats[i]?.[0] as Stats | undefined;
      if (s) this.add(t.id, s);
    });
    const seen = new Set(live.map((t) => t.id));
    for (const id of this.last.keys()) if (!seen.has(id) && !this.closing.has(id)) this.last.delete(id);
  }

  /** Call right before closing a transport: its final figures are counted. Never throws. */
  beforeClose(transport: ms.Transport): void {
    if (transport.closed || this.closing.has(transport.id)) return;
    const id = transport.id;
    this.closing.add(id);
    const done = transport
      .getStats()
      .then(([s]) => {
        if (s) this.add(id, s as Stats);
      })
      .catch(() => {})
      .finally(() => {
        this.closing.delete(id);
        this.last.delete(id);
        this.finals.delete(done);
      });
    this.finals.add(done);
  }

  /** Resolves when the final reads of transports closed so far have been counted. */
  async settled(): Promise<void> {
    await Promise.all([...this.finals]);
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
