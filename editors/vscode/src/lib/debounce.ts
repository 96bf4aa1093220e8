// Per-key debouncing with an injectable clock. No `vscode` import.

export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Calls `callback(key)` once `delayMs` have passed since the last `trigger(key)`
 * for that key. Keys are independent: editing one template does not hold back
 * the refresh of another.
 */
export class KeyedDebouncer<K> {
  private readonly timers = new Map<K, unknown>();
  private disposed = false;

  constructor(
    private readonly delayMs: number,
    private readonly callback: (key: K) => void,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(delayMs >= 0)) {
      throw new RangeError(`delay must be >= 0, got ${delayMs}`);
    }
  }

  trigger(key: K): void {
    if (this.disposed) {
      return;
    }
    this.cancel(key);
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(key);
      if (!this.disposed) {
        this.callback(key);
      }
    }, this.delayMs);
    this.timers.set(key, handle);
  }

  /** Runs a pending call for `key` now. Returns whether one was pending. */
  flush(key: K): boolean {
    if (!this.timers.has(key)) {
      return false;
    }
    this.cancel(key);
    if (!this.disposed) {
      this.callback(key);
    }
    return true;
  }

  cancel(key: K): void {
    const handle = this.timers.get(key);
    if (handle !== undefined) {
      this.clock.clearTimeout(handle);
      this.timers.delete(key);
    }
  }

  isPending(key: K): boolean {
    return this.timers.has(key);
  }

  get pendingCount(): number {
    return this.timers.size;
  }

  dispose(): void {
    for (const handle of this.timers.values()) {
      this.clock.clearTimeout(handle);
    }
    this.timers.clear();
    this.disposed = true;
  }
}

/** Single-key convenience: `const d = debounce(fn, 300); d(); d(); // fn runs once`. */
export function debounce(fn: () => void, delayMs: number, clock: Clock = systemClock): (() => void) & { cancel(): void } {
  const keyed = new KeyedDebouncer<0>(delayMs, () => fn(), clock);
  const call = () => keyed.trigger(0);
  return Object.assign(call, { cancel: () => keyed.cancel(0) });
}
