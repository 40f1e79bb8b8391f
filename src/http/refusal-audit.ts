import type { AuditInput } from '../audit/audit-log.js';

/** What an `api.token_refused` event records (see docs/audit.md). */
export interface TokenRefusal {
  reason: string;
  message: string;
  issuer: string | null;
  method: string | null;
  path: string;
}

/** At most this many `api.token_refused` events per minute and process; the rest are counted. */
export const REFUSALS_RECORDED_PER_MINUTE = 20;
const WINDOW_MS = 60_000;

/**
 * Records refused bearer tokens in the audit trail without letting anyone who can reach the API
 * fill it: refusals come before any authentication, and each event is permanent, on the chain
 * every decision waits for. The first `perMinute` refusals of a minute are recorded one by one;
 * the rest are counted and recorded as one `api.token_refused_summary` event (count, reasons,
 * first and last time) when the minute ends, or at `flush()` when the server stops.
 */
export class RefusalAudit {
  private windowStart = Number.NEGATIVE_INFINITY;
  private recorded = 0;
  private counted: { count: number; reasons: Record<string, number>; from: number; to: number } | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly record: (event: AuditInput) => Promise<void>,
    private readonly now: () => number,
    private readonly perMinute = REFUSALS_RECORDED_PER_MINUTE,
  ) {}

  async refused(refusal: TokenRefusal): Promise<void> {
    const at = this.now();
    if (at - this.windowStart >= WINDOW_MS) {
      await this.flush();
      this.windowStart = at;
      this.recorded = 0;
    }
    if (this.recorded < this.perMinute) {
      this.recorded++;
      await this.record({ type: 'api.token_refused', actor: 'system', data: { ...refusal } });
      return;
    }
    const c = this.counted ?? { count: 0, reasons: {}, from: at, to: at };
    this.counted = c;
    c.count++;
    c.reasons[refusal.reason] = (c.reasons[refusal.reason] ?? 0) + 1;
    c.to = at;
    if (this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), Math.max(0, this.windowStart + WINDOW_MS - at));
      this.timer.unref();
    }
  }

  /** Records the refusals counted but not recorded one by one, if any. Never rejects. */
  async flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const c = this.counted;
    this.counted = null;
    if (c === null) return;
    await this.record({
      type: 'api.token_refused_summary',
      actor: 'system',
      data: {
        count: c.count,
        reasons: c.reasons,
        from: new Date(c.from).toISOString(),
        to: new Date(c.to).toISOString(),
        recorded_one_by_one_per_minute: this.perMinute,
      },
    });
  }
}
