type AnyListener = (...args: unknown[]) => void;

/** A small typed event emitter (browser and Node): listeners of a map of event names to argument tuples. */
export class Emitter<Events extends Record<string, unknown[]>> {
  private readonly listeners = new Map<keyof Events, Set<AnyListener>>();

  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const l = listener as unknown as AnyListener;
    set.add(l);
    return () => set.delete(l);
  }

  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        listener(...args);
      } catch (error) {
        console.error(`a ${String(event)} listener failed`, error);
      }
    }
  }
}
