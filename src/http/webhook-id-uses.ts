import { TOLERANCE_SECONDS } from './verify-signature.js';

/** Ids remembered at most; past it the oldest is forgotten first (only authenticated callers add). */
const DEFAULT_CAPACITY = 100_000;

interface Use {
  /** `METHOD target`, the target exactly as sent. */
  call: string;
  /** When the id may be used for another call again (ms). */
  until: number;
}

/**
 * What each client's recent `webhook-id`s were used for (CONTRACT §3): the same id for another
 * method or request target within 300 s is refused, so a captured id cannot be aimed elsewhere
 * even by a client that signs less than it should. The same call again (a retry) passes. An id is
 * held for 300 s after its last use and after the timestamp it was signed with, whichever is
 * later, which covers every moment its signature is still fresh. A cache in this process, bounded.
 */
export class WebhookIdUses {
  private readonly uses = new Map<string, Use>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /**
   * Records `call` for `client`'s `id` and answers true, or answers false when the id was used for
   * another call within the window. `signedAtMs` is the signed `webhook-timestamp`, when there is one.
   */
  claim(client: string, id: string, call: string, nowMs: number, signedAtMs: number | null = null): boolean {
    this.forgetExpired(nowMs);
    const key = `${client}\u0000${id}`;
    const until = Math.max(nowMs, signedAtMs ?? nowMs) + TOLERANCE_SECONDS * 1000;
    const seen = this.uses.get(key);
    if (seen !== undefined && seen.until >= nowMs && seen.call !== call) return false;
    // Re-inserted so that the map stays in order of expiry, oldest first.
    this.uses.delete(key);
    this.uses.set(key, { call, until: Math.max(until, seen?.call === call ? seen.until : 0) });
    while (this.uses.size > this.capacity) {
      const oldest = this.uses.keys().next().value as string;
      this.uses.delete(oldest);
    }
    return true;
  }

  get size(): number {
    return this.uses.size;
  }

  /** Drops expired entries from the front; entries sit roughly in order of expiry. */
  private forgetExpired(nowMs: number): void {
    for (const [key, use] of this.uses) {
      if (use.until >= nowMs) break;
      this.uses.delete(key);
    }
  }
}
