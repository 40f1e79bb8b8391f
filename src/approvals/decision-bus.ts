/** Ends one wait: decided (the default), or not (re-read and wait on). */
type Wake = (decided?: boolean) => void;

/**
 * Wakes long-polling readers (`GET ...?wait=N`) the moment a request leaves `pending` in this
 * process. No polling: each waiter is a resolver in a per-request set.
 */

export class DecisionBus {
  private readonly waiters = new Map<string, Set<Wake>>();

  /** Resolves true when `id` is decided, false after `ms` or when `signal` aborts. */
  wait(id: string, ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      let set = this.waiters.get(id);
      if (!set) {
        set = new Set();
        this.waiters.set(id, set);
      }
      const done = (decided: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const current = this.waiters.get(id);
        current?.delete(wake);
        if (current?.size === 0) this.waiters.delete(id);
        resolve(decided);
      };
      const wake: Wake = (decided = true) => done(decided);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(wake);
    });
  }

  notify(id: string): void {
    const set = this.waiters.get(id);
    if (!set) return;
    for (const wake of [...set]) wake();
  }

  /**
   * Ends every wait as undecided (`wait` resolves false before its time): the waiters re-read the
   * requests they wait on (announcements may have been missed).
   */
  recheckAll(): void {
    for (const set of [...this.waiters.values()]) for (const wake of [...set]) wake(false);
  }

  /** Wakes everyone (used at shutdown so held connections answer at once). */
  notifyAll(): void {
    for (const id of [...this.waiters.keys()]) this.notify(id);
  }

  get size(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }
}
