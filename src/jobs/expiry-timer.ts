import { type SweepDeps, sweepOnce } from './sweep.js';

export interface ExpiryTimerDeps extends SweepDeps {
  /** The earliest deadline of a pending request (from the database), or null. */
  nextDeadline: () => Promise<number | null>;
  /**
   * Several replicas (PostgreSQL): read the next deadline from the database this often and wake up
   * for it, so a request made on another replica (one that may since have died) expires on time
   * here too. Unset (SQLite, one process): `arm` sees every new request.
   */
  pollMs?: number;
}

/** Longest single sleep: a far deadline is looked at again after an hour (clock changes, setTimeout's limit). */
const MAX_SLEEP_MS = 3_600_000;
/** After a failed run, the next try (the cron sweep still runs too). */
const AFTER_FAILURE_MS = 1000;

/** With several replicas, how often each reads the next deadline (one index seek). */
export const DEADLINE_POLL_MS = 1000;

/**
 * Expires requests at their deadline rather than at the next cron tick: one timer, set for the
 * earliest deadline of a pending request. Armed at start (for requests made before a restart),
 * moved earlier when a request with an earlier deadline is created (`arm`), and set again from the
 * database after each run. With `pollMs` (several replicas) the next deadline is also read from the
 * database that often, so requests made on another replica expire on time on every replica. The
 * cron sweep stays as a safety net (a missed timer); every path uses the same guarded transition,
 * so running twice, or on two replicas, expires nothing twice.
 */
export class ExpiryTimer {
  private timer: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;
  private polling = false;
  /** The deadline the timer is set for. */
  private armedFor: number | null = null;
  private running = false;
  private stopped = true;

  constructor(private readonly deps: ExpiryTimerDeps) {}

  start(): void {
    this.stopped = false;
    this.setFromDatabase().catch((err: unknown) => {
      this.deps.log.error('expiry timer: reading the next deadline failed', { error: err });
      this.set(this.deps.now(), AFTER_FAILURE_MS);
    });
    const { pollMs } = this.deps;
    if (pollMs !== undefined && this.poll === null) {
      this.poll = setInterval(() => void this.pollDatabase(), pollMs);
      this.poll.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
    this.timer = null;
    this.poll = null;
    this.armedFor = null;
  }

  /** A pending request has this deadline: wake up for it unless the timer is already set no later. */
  arm(deadline: number): void {
    if (this.stopped || (this.armedFor !== null && this.armedFor <= deadline)) return;
    this.set(deadline, deadline - this.deps.now());
  }

  /** The deadline the timer is set for (null: nothing pending). */
  get nextAt(): number | null {
    return this.armedFor;
  }

  private set(deadline: number, delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = deadline;
    this.timer = setTimeout(() => void this.fire(), Math.min(Math.max(0, delayMs), MAX_SLEEP_MS));
    this.timer.unref();
  }

  /** The poll: the earliest deadline in the database, armed unless the timer is set no later. */
  private async pollDatabase(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const next = await this.deps.nextDeadline();
      if (next !== null) this.arm(next);
    } catch (err) {
      // The store being down is reported elsewhere; the next poll tries again.
      this.deps.log.debug('expiry timer: polling the next deadline failed', { error: err });
    } finally {
      this.polling = false;
    }
  }

  private async setFromDatabase(): Promise<void> {
    const next = await this.deps.nextDeadline();
    if (this.stopped) return;
    if (next === null) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.armedFor = null;
    } else this.set(next, next - this.deps.now());
  }

  private async fire(): Promise<void> {
    this.timer = null;
    this.armedFor = null;
    // A run in progress sets the timer again from the database when it ends.
    if (this.running || this.stopped) return;
    this.running = true;
    let failed = false;
    try {
      await sweepOnce(this.deps);
    } catch (err) {
      failed = true;
      this.deps.log.error('expiry at the deadline failed; trying again shortly', { error: err });
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    try {
      if (failed) this.set(this.deps.now(), AFTER_FAILURE_MS);
      else await this.setFromDatabase();
    } catch (err) {
      this.deps.log.error('expiry timer: reading the next deadline failed', { error: err });
      this.set(this.deps.now(), AFTER_FAILURE_MS);
    }
  }
}
