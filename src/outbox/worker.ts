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
import { CallbackGate, type CallbackLimits, type CallbackSlot, isCallbackLane } from './callback-gate.js';
import type { SlackDelivery } from './slack-delivery.js';
import { permanentSlackError, type SlackProblem } from './slack-problems.js';

export interface WorkerDeps {
  approvals: Approvals;
  store: Store;
  audit: AuditLog;
  slack: SlackDelivery;
  clients: readonly ClientSecret[];
  log: Logger;
  now: () => number;
  /** Slack rows delivered at once at most (each Slack lane also runs one row at a time). */
  concurrency?: number;
  pollMs?: number;
  callbackTimeoutMs?: number;
  /** Resolving a callback host and connecting to it (default 3 s). */
  callbackConnectTimeoutMs?: number;
  /** Callback attempts in flight: in all, per client, per receiver host (callbacks' own slots). */
  callbackLimits?: Partial<CallbackLimits>;
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
 * on a 429. Slack rows and callbacks never share slots: callbacks are admitted by a `CallbackGate`
 * (caps per client and per receiver, a dead receiver backed off as a whole; per replica), so no
 * receiver holds back a card.
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
  private slackBusy = 0;
  private readonly callbacks: CallbackGate;
  /** Names this worker's claims (one per process start). */
  readonly owner = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

  constructor(private readonly deps: WorkerDeps) {
    this.concurrency = deps.concurrency ?? 16;
    this.callbacks = new CallbackGate(deps.callbackLimits ?? {}, deps.now);
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
        const want = {
          serial: Math.max(0, this.concurrency - this.slackBusy),
          parallel: Math.max(0, this.callbacks.limits.total - this.callbacks.size),
          skipLanes: this.callbacks.blockedLanes(),
        };
        if (want.serial === 0 && want.parallel === 0) return;
        let rows: OutboxRow[];
        try {
          rows = await this.outbox.claim(this.owner, this.deps.now(), want, {
            at: Date.now(),
            ms: CLAIM_LEASE_MS,
          });
        } catch (err) {
          this.deps.log.warn('could not claim outbox rows; will try again', { error: err });
          return;
        }
        const refused: number[] = [];
        for (const row of rows) {
          let slot: CallbackSlot | null = null;
          if (isCallbackLane(row.lane)) {
            slot = this.callbacks.acquire(row.lane, (row.payload as { url?: string }).url ?? '');
            if (slot === null) {
              refused.push(row.id);
              continue;
            }
          } else this.slackBusy++;
          const job = this.run(row, slot)
            .catch((err: unknown) => {
              // Not recorded (the database went away): the claim runs out and the row is retried.
              this.deps.log.error('outbox row could not be settled; it will be retried', {
                id: row.id,
                error: err,
              });
            })
            .finally(() => {
              this.inFlight.delete(row.id);
              if (slot) this.callbacks.release(slot);
              else this.slackBusy--;
              this.wake();
            });
          this.inFlight.set(row.id, job);
        }
        // Claimed, but a callback cap or a receiver's pause says not now: handed back at once.
        if (refused.length > 0) await this.outbox.release(this.owner, refused).catch(() => {});
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.passing = null;
    });
    return this.passing;
  }

  private async run(row: OutboxRow, slot: CallbackSlot | null): Promise<void> {
    const payload = row.payload as OutboxPayload;
    try {
      if (payload.kind === 'callback' && slot) return await this.runCallback(row, payload, slot);
      const result = await this.deps.slack.deliver(payload, row.requestId);
      const now = this.deps.now();
      if (result.kind === 'wait') {
        await this.deps.store.transaction((t) =>
          t.outbox.retryLater(this.owner, row.id, now + WAIT_MS, result.why, false),
        );
        return;
      }
      // A card update covers the updates queued before the state it rendered (SlackDelivery.updateCard).
      const covered = (result.covered ?? []).filter((id) => id !== row.id);
      await this.deps.store.transaction((t) => t.outbox.markDone(this.owner, [row.id, ...covered], now));
    } catch (err) {
      const now = this.deps.now();
      const limited = rateLimitMs(err);
      if (limited !== null) {
        await this.deps.store.transaction(async (t) => {
          await t.outbox.pauseLane(row.lane, Date.now() + limited);
          await t.outbox.retryLater(this.owner, row.id, now + limited, 'rate limited by Slack', false);
        });
        // Resume the lane when the pause ends, not at the next poll: waiting for the poll (up to
        // pollMs) after every pause would add up along a long queue.
        setTimeout(() => this.wake(), limited + 1).unref();
        this.deps.log.info('slack rate limit: pausing lane', { lane: row.lane, ms: limited });
        return;
      }
      const problem = permanentSlackError(err);
      if (problem) return await this.undeliverable(row, payload, problem);
      const delay = slackDelay(row.attempts);
      const retried = await this.deps.store.transaction((t) =>
        t.outbox.retryLater(this.owner, row.id, now + delay, describe(err)),
      );
      if (!retried) return this.claimLost(row, describe(err));
      this.deps.log.warn('slack delivery failed; will retry', {
        requestId: row.requestId,
        kind: row.kind,
        attempt: row.attempts + 1,
        retryInMs: delay,
        error: describe(err),
      });
    }
  }

  private async runCallback(
    row: OutboxRow,
    payload: CallbackPayload & { kind: 'callback' },
    slot: CallbackSlot,
  ): Promise<void> {
    const request = row.requestId ? await this.deps.store.requests.get(row.requestId) : null;
    const keys = this.deps.clients.filter((c) => c.name === request?.client);
    const result =
      keys.length === 0
        ? { ok: false as const, error: `client ${request?.client ?? '?'} has no secret configured any more` }
        : await deliverCallback(payload, keys, this.deps.now(), {
            ...(this.deps.callbackTimeoutMs !== undefined ? { timeoutMs: this.deps.callbackTimeoutMs } : {}),
            ...(this.deps.callbackConnectTimeoutMs !== undefined
              ? { connectTimeoutMs: this.deps.callbackConnectTimeoutMs }
              : {}),
            allow: this.deps.callbackAllow,
            ...(this.deps.callbackResolver ? { resolve: this.deps.callbackResolver } : {}),
          });
    this.deps.onCallback?.(result.ok);
    this.noteHost(slot, result);
    const now = this.deps.now();
    const attempts = row.attempts + 1;
    // The URL may carry the receiver's credential: audit data and logs get it masked.
    const data = { url: maskUrl(payload.url), webhook_id: payload.webhookId, attempts };
    if (result.ok) {
      await this.deps.store.transaction(async (t) => {
        await t.outbox.markDone(this.owner, [row.id], now);
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
      const gaveUp = await this.deps.store.transaction(async (t) => {
        if (!(await t.outbox.giveUp(this.owner, row.id, now, result.error))) return false;
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
        return true;
      });
      if (!gaveUp) return this.claimLost(row, result.error);
      this.deps.log.error(
        refused ? 'callback refused; not retried' : 'callback given up after 24 hours of retries',
        { requestId: row.requestId, url: data.url, error: result.error },
      );
      return;
    }
    const delay = callbackDelay(payload.webhookId, attempts);
    const retried = await this.deps.store.transaction((t) =>
      t.outbox.retryLater(this.owner, row.id, now + delay, result.error),
    );
    if (!retried) return this.claimLost(row, result.error);
    this.deps.log.warn('callback failed; will retry', {
      requestId: row.requestId,
      attempt: attempts,
      retryInMs: delay,
      error: result.error,
    });
  }

  /**
   * Slack refuses the row for a reason a person must fix: no blind retries at the usual pace but a
   * slow, bounded schedule (at most 5 minutes apart), so it goes out by itself once fixed; an error
   * in the log naming the fix; and for a card, `delivery_error` on the request.
   */
  private async undeliverable(row: OutboxRow, payload: OutboxPayload, problem: SlackProblem): Promise<void> {
    const channel = row.lane.startsWith('slack:') ? row.lane.slice('slack:'.length) : row.lane;
    const error = await this.deps.slack.explain(problem, channel);
    if (payload.kind === 'slack.post_card' && row.requestId)
      await this.deps.slack.markUndeliverable(row.requestId, error);
    const delay = slackDelay(row.attempts);
    const at = this.deps.now() + delay;
    await this.deps.store.transaction((t) =>
      t.outbox.retryLater(this.owner, row.id, at, `${error.code}: ${error.message}`),
    );
    this.deps.log.error(`slack refuses ${payload.kind}: ${error.message}`, {
      requestId: row.requestId,
      kind: row.kind,
      code: error.code,
      fix: error.message,
      attempt: row.attempts + 1,
      retryInMs: delay,
    });
  }

  /**
   * The row's outcome was not recorded: this worker no longer holds it (its lease ran out while the
   * attempt ran, and another worker took the row over, or settled it). That worker's outcome counts.
   */
  private claimLost(row: OutboxRow, error: string): void {
    this.deps.log.warn(
      'outbox row taken over by another worker while this one ran it; outcome not recorded',
      {
        id: row.id,
        requestId: row.requestId,
        kind: row.kind,
        error,
      },
    );
  }

  /** A receiver that answered is up; one that could not be reached is backed off as a whole. */
  private noteHost(slot: CallbackSlot, result: { ok: boolean; permanent?: boolean; status?: number }): void {
    const reached = result.ok || result.status !== undefined;
    const pause = this.callbacks.settle(
      slot,
      reached ? 'reached' : result.permanent ? 'not_tried' : 'unreachable',
    );
    if (pause === null) return;
    // Its rows are not even read while it is paused; look again as soon as the pause ends.
    setTimeout(() => this.wake(), pause + 1).unref();
    this.deps.log.warn('callback receiver unreachable: pausing every callback to it', {
      host: slot.host,
      pauseMs: pause,
    });
  }
}
