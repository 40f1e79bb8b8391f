import type { OutboxPayload } from '../approvals/outbox-items.js';
import type { Approvals } from '../approvals/service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { ClientSecret } from '../config.js';
import { maskUrl } from '../core/mask-url.js';
import type { Resolver } from '../egress/pinned-post.js';
import type { Logger } from '../log.js';
import type { OutboxRow, Store } from '../store/store.js';
import { CALLBACK_RETRY_WINDOW_MS, callbackDelay, slackDelay } from './backoff.js';
import { type CallbackPayload, deliverCallback } from './callback-delivery.js';
import type { SlackDelivery } from './slack-delivery.js';

export interface WorkerDeps {
  approvals: Approvals;
  store: Store;
  audit: AuditLog;
  slack: SlackDelivery;
  clients: readonly ClientSecret[];
  log: Logger;
  now: () => number;
  /** Rows delivered at once at most (Slack lanes also run one row at a time each). */
  concurrency?: number;
  pollMs?: number;
  callbackTimeoutMs?: number;
  /** `COUNTERSIGN_CALLBACK_ALLOW`: callback URLs and their addresses are checked at every attempt. */
  callbackAllow: readonly string[];
  /** Resolves callback hosts (tests inject one). */
  callbackResolver?: Resolver;
  /** Told the result of every callback attempt (metrics). */
  onCallback?: (ok: boolean) => void;
}

const WAIT_MS = 1000;
/**
 * How long a claimed row stays this worker's without a word from it: the lease is renewed every
 * third of it while the delivery runs, so only a dead replica's claims run out, and another
 * replica takes them over within this time (CONTRACT §9: 30 s).
 */
export const CLAIM_LEASE_MS = 15_000;

function rateLimitMs(err: unknown): number | null {
  const e = err as { code?: string; retryAfter?: number };
  if (e?.code === 'slack_webapi_rate_limited_error') return Math.max(1, e.retryAfter ?? 1) * 1000;
  return null;
}

function describe(err: unknown): string {
  const e = err as { data?: { error?: string }; message?: string };
  return e?.data?.error ?? e?.message ?? String(err);
}

/**
 * Delivers outbox rows after their transaction committed: Slack posts and updates, and signed
 * callbacks. Woken at once by `wake()` and on a timer. Rows are claimed from the store with a
 * lease, so several replicas share one outbox: rows of one request in one lane run in order, a
 * Slack channel is a lane that runs one call at a time and pauses as a whole (for every replica)
 * on a 429.
 */
export class OutboxWorker {
  private readonly inFlight = new Map<number, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private scheduled = false;
  private passing: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly concurrency: number;
  /** Names this worker's claims (one per process start). */
  readonly owner = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

  constructor(private readonly deps: WorkerDeps) {
    this.concurrency = deps.concurrency ?? 16;
  }

  private get outbox() {
    return this.deps.store.outbox;
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.deps.pollMs ?? 500);
    this.timer.unref();
    this.leaseTimer = setInterval(() => this.renewLeases(), CLAIM_LEASE_MS / 3);
    this.leaseTimer.unref();
    this.wake();
  }

  /** Runs a pass soon (coalesced): call after every commit that queued rows. */
  wake(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) void this.pass();
    });
  }

  /** Stops taking new rows, waits for those in flight and hands back anything still claimed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.timer = null;
    this.leaseTimer = null;
    await this.passing;
    await Promise.allSettled([...this.inFlight.values()]);
    await this.outbox.release(this.owner).catch(() => {});
  }

  /** Delivers what can be delivered within `ms` (used at shutdown). Returns rows still open. */
  async drain(ms: number): Promise<number> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await this.pass();
      if (this.inFlight.size === 0 && !(await this.outbox.anyDue(this.deps.now(), Date.now()))) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.race([
      Promise.allSettled([...this.inFlight.values()]),
      new Promise((r) => setTimeout(r, 100)),
    ]);
    return this.outbox.openCount();
  }

  get pending(): number {
    return this.inFlight.size;
  }

  private renewLeases(): void {
    if (this.inFlight.size === 0) return;
    const until = Date.now() + CLAIM_LEASE_MS;
    this.outbox.extend(this.owner, [...this.inFlight.keys()], until).catch((err: unknown) => {
      this.deps.log.warn('could not renew outbox claims', { error: err });
    });
  }

  /** One pass: claims what may start now and starts it. Passes never overlap. */
  private pass(): Promise<void> {
    if (this.passing) {
      this.again = true;
      return this.passing;
    }
    this.passing = (async () => {
      do {
        this.again = false;
        const free = this.concurrency - this.inFlight.size;
        if (free <= 0) return;
        let rows: OutboxRow[];
        try {
          rows = await this.outbox.claim(this.owner, this.deps.now(), free, {
            at: Date.now(),
            ms: CLAIM_LEASE_MS,
          });
        } catch (err) {
          this.deps.log.warn('could not claim outbox rows; will try again', { error: err });
          return;
        }
        for (const row of rows) {
          const job = this.run(row)
            .catch((err: unknown) => {
              // Not recorded (the database went away): the claim runs out and the row is retried.
              this.deps.log.error('outbox row could not be settled; it will be retried', {
                id: row.id,
                error: err,
              });
            })
            .finally(() => {
              this.inFlight.delete(row.id);
              this.wake();
            });
          this.inFlight.set(row.id, job);
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.passing = null;
    });
    return this.passing;
  }

  private async run(row: OutboxRow): Promise<void> {
    const payload = row.payload as OutboxPayload;
    try {
      if (payload.kind === 'callback') return await this.runCallback(row, payload);
      const result = await this.deps.slack.deliver(payload, row.requestId);
      const now = this.deps.now();
      if (result.kind === 'wait') {
        await this.deps.store.transaction((t) =>
          t.outbox.retryLater(row.id, now + WAIT_MS, result.why, false),
        );
        return;
      }
      // A card update covers the updates queued before the state it rendered (SlackDelivery.updateCard).
      const covered = (result.covered ?? []).filter((id) => id !== row.id);
      await this.deps.store.transaction((t) => t.outbox.markDone([row.id, ...covered], now));
    } catch (err) {
      const now = this.deps.now();
      const limited = rateLimitMs(err);
      if (limited !== null) {
        await this.deps.store.transaction(async (t) => {
          await t.outbox.pauseLane(row.lane, Date.now() + limited);
          await t.outbox.retryLater(row.id, now + limited, 'rate limited by Slack', false);
        });
        // Resume the lane when the pause ends, not at the next poll: waiting for the poll (up to
        // pollMs) after every pause would add up along a long queue.
        setTimeout(() => this.wake(), limited + 1).unref();
        this.deps.log.info('slack rate limit: pausing lane', { lane: row.lane, ms: limited });
        return;
      }
      const delay = slackDelay(row.attempts);
      await this.deps.store.transaction((t) => t.outbox.retryLater(row.id, now + delay, describe(err)));
      this.deps.log.warn('slack delivery failed; will retry', {
        requestId: row.requestId,
        kind: row.kind,
        attempt: row.attempts + 1,
        retryInMs: delay,
        error: describe(err),
      });
    }
  }

  private async runCallback(row: OutboxRow, payload: CallbackPayload & { kind: 'callback' }): Promise<void> {
    const request = row.requestId ? await this.deps.store.requests.get(row.requestId) : null;
    const keys = this.deps.clients.filter((c) => c.name === request?.client);
    const result =
      keys.length === 0
        ? { ok: false as const, error: `client ${request?.client ?? '?'} has no secret configured any more` }
        : await deliverCallback(payload, keys, this.deps.now(), {
            ...(this.deps.callbackTimeoutMs !== undefined ? { timeoutMs: this.deps.callbackTimeoutMs } : {}),
            allow: this.deps.callbackAllow,
            ...(this.deps.callbackResolver ? { resolve: this.deps.callbackResolver } : {}),
          });
    this.deps.onCallback?.(result.ok);
    const now = this.deps.now();
    const attempts = row.attempts + 1;
    // The URL may carry the receiver's credential: audit data and logs get it masked.
    const data = { url: maskUrl(payload.url), webhook_id: payload.webhookId, attempts };
    if (result.ok) {
      await this.deps.store.transaction(async (t) => {
        await t.outbox.markDone([row.id], now);
        await this.deps.audit.append(
          t,
          {
            type: 'callback.delivered',
            requestId: row.requestId,
            actor: 'system',
            data: { ...data, status: result.status },
          },
          now,
        );
      });
      return;
    }
    // A refused URL or address is given up at once: retrying cannot make it allowed.
    const refused = !result.ok && result.permanent === true;
    if (refused || now - row.createdAt >= CALLBACK_RETRY_WINDOW_MS) {
      await this.deps.store.transaction(async (t) => {
        await t.outbox.giveUp(row.id, now, result.error);
        await this.deps.audit.append(
          t,
          {
            type: 'callback.given_up',
            requestId: row.requestId,
            actor: 'system',
            data: { ...data, error: result.error },
          },
          now,
        );
      });
      this.deps.log.error(
        refused ? 'callback refused; not retried' : 'callback given up after 24 hours of retries',
        { requestId: row.requestId, url: data.url, error: result.error },
      );
      return;
    }
    const delay = callbackDelay(payload.webhookId, attempts);
    await this.deps.store.transaction((t) => t.outbox.retryLater(row.id, now + delay, result.error));
    this.deps.log.warn('callback failed; will retry', {
      requestId: row.requestId,
      attempt: attempts,
      retryInMs: delay,
      error: result.error,
    });
  }
}
