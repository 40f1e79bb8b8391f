import { createHash, randomBytes } from 'node:crypto';
import { TOLERANCE_SECONDS } from './verify-signature.js';

/** Ids remembered at most; past it the oldest is forgotten first (only authenticated callers add). */
const DEFAULT_CAPACITY = 100_000;

/**
 * What each client's recent `webhook-id`s were used for (CONTRACT §3): the same id for another
 * method or request target within 300 s is refused, so a captured id cannot be aimed elsewhere
 * even by a client that signs less than it should. The same call again (a retry) passes. An id is
 * held for 300 s after its last use and after the timestamp it was signed with, whichever is
 * later, which covers every moment its signature is still fresh. A cache in this process, bounded.
 *
 * Kept small, since a busy server holds its full capacity: the client and id, and the call, are
 * each kept as a 52-bit keyed hash (SHA-256 with a salt made at start, so no one can aim two ids
 * at one entry), in a ring of three numbers per use, in order of use; a map finds the latest use
 * of an id. About 60 bytes per id instead of a few hundred for the strings (a 100,000-id cache is
 * ~6 MB). Two different calls share a hash once in 2^52: then a reuse would pass, which the
 * signature over the target still refuses; two ids sharing one would refuse the later id's other
 * calls for 300 s (about one chance in a million per full cache of 100,000 ids).
 */
export class WebhookIdUses {
  private readonly salt = randomBytes(16);
  /** Id hash → sequence number of its latest use in the ring. */
  private readonly latest = new Map<number, number>();
  private readonly ids: Float64Array;
  private readonly calls: Float64Array;
  private readonly untils: Float64Array;
  /** Sequence numbers of the oldest use still in the ring and of the next one. */
  private first = 0;
  private next = 0;

  constructor(private readonly capacity = DEFAULT_CAPACITY) {
    this.ids = new Float64Array(capacity);
    this.calls = new Float64Array(capacity);
    this.untils = new Float64Array(capacity);
  }

  /**
   * Records `call` for `client`'s `id` and answers true, or answers false when the id was used for
   * another call within the window. `signedAtMs` is the signed `webhook-timestamp`, when there is one.
   */
  claim(client: string, id: string, call: string, nowMs: number, signedAtMs: number | null = null): boolean {
    this.forgetExpired(nowMs);
    const key = this.hash(`${client}\u0000${id}`);
    const callHash = this.hash(call);
    let until = Math.max(nowMs, signedAtMs ?? nowMs) + TOLERANCE_SECONDS * 1000;
    const seen = this.latest.get(key);
    if (seen !== undefined) {
      const slot = seen % this.capacity;
      const seenUntil = this.untils[slot] as number;
      const sameCall = this.calls[slot] === callHash;
      if (seenUntil >= nowMs && !sameCall) return false;
      if (sameCall) until = Math.max(until, seenUntil);
      // Its older use stays in the ring until its turn; `latest` points past it.
    }
    if (this.next - this.first === this.capacity) this.dropOldest();
    const slot = this.next % this.capacity;
    this.ids[slot] = key;
    this.calls[slot] = callHash;
    this.untils[slot] = until;
    this.latest.set(key, this.next);
    this.next += 1;
    return true;
  }

  /** Ids remembered now. */
  get size(): number {
    return this.latest.size;
  }

  private hash(text: string): number {
    const digest = createHash('sha256').update(this.salt).update(text).digest();
    // 52 bits: every one of them exact in a double.
    return digest.readUIntBE(0, 6) * 16 + ((digest[6] as number) >> 4);
  }

  private dropOldest(): void {
    const slot = this.first % this.capacity;
    const key = this.ids[slot] as number;
    if (this.latest.get(key) === this.first) this.latest.delete(key);
    this.first += 1;
  }

  /** Drops expired uses from the front; uses sit roughly in order of expiry. */
  private forgetExpired(nowMs: number): void {
    while (this.first < this.next && (this.untils[this.first % this.capacity] as number) < nowMs) {
      this.dropOldest();
    }
  }
}
