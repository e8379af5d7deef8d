/**
 * A synchronous event emitter typed by an event map (event name -> argument tuple), as mediasoup's are. A
 * listener that throws is reported to `onError` and never reaches the emitter or the other listeners: what
 * subscribes to a room (records, the participant log, metrics) cannot break the room.
 */
type Listener = (...args: unknown[]) => void;

export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly listeners = new Map<keyof E, Listener[]>();

  constructor(private readonly onError: (error: unknown, event: keyof E) => void = () => {}) {}

  /** Subscribes; returns the unsubscribe. Listeners run in the order they subscribed. */
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): () => void {
    const list = this.listeners.get(event) ?? [];
    list.push(listener as unknown as Listener);
    this.listeners.set(event, list);
    return () => {
      const current = this.listeners.get(event);
      const at = current?.indexOf(listener as unknown as Listener) ?? -1;
      if (current && at >= 0) current.splice(at, 1);
    };
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const listener of [...list]) {
      try {
        listener(...args);
      } catch (error) {
        this.onError(error, event);
      }
    }
  }

  removeAll(): void {
    this.listeners.clear();
  }
}
