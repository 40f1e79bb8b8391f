import type { OutboxPayload } from '../approvals/outbox-items.js';
import type { Approvals } from '../approvals/service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { ClientSecret } from '../config.js';
import { maskUrl } from '../core/mask-url.js';
import type { Resolver } from '../egress/pinned-post.js';
import type { Logger } from '../log.js';
import type { OpenDatabase } from '../store/db.js';
import type { OutboxRow } from '../store/outbox-repo.js';
import { CALLBACK_RETRY_WINDOW_MS, callbackDelay, slackDelay } from './backoff.js';
import { type CallbackPayload, deliverCallback } from './callback-delivery.js';
import { CallbackGate, type CallbackLimits, type CallbackSlot, isCallbackLane } from './callback-gate.js';
import type { SlackDelivery } from './slack-delivery.js';
import { permanentSlackError, type SlackProblem } from './slack-problems.js';

export interface WorkerDeps {
  approvals: Approvals;
  database: OpenDatabase;
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
 * callbacks. Woken at once by `wake()` and on a timer. Rows of one request in one lane run in
 * order; a Slack channel is a lane that runs one call at a time and pauses as a whole on a 429.
 * Slack rows and callbacks never share slots: callbacks are admitted by a `CallbackGate` (caps per
 * client and per receiver, a dead receiver backed off as a whole), so no receiver holds back a card.
 */
export class OutboxWorker {
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly busyLanes = new Set<string>();
  private readonly blockedUntil = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private scheduled = false;
  private stopped = false;
  private readonly concurrency: number;
  private slackBusy = 0;
  private readonly callbacks: CallbackGate;

  constructor(private readonly deps: WorkerDeps) {
    this.concurrency = deps.concurrency ?? 16;
    this.callbacks = new CallbackGate(deps.callbackLimits ?? {}, deps.now);
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.deps.pollMs ?? 500);
    this.timer.unref();
    this.wake();
  }

  /** Runs a pass soon (coalesced): call after every commit that queued rows. */
  wake(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.stopped) this.pass();
    });
  }

  /** Stops taking new rows and waits for those in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Delivers what can be delivered within `ms` (used at shutdown). Returns rows still open. */
  async drain(ms: number): Promise<number> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      this.pass();
      if (
        this.inFlight.size === 0 &&
        this.deps.approvals.outbox.due(this.deps.now(), 1, this.blocked()).length === 0
      )
        break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.race([
      Promise.allSettled([...this.inFlight.values()]),
      new Promise((r) => setTimeout(r, 100)),
    ]);
    return this.deps.approvals.outbox.openCount();
  }

  get pending(): number {
    return this.inFlight.size;
  }

  private blocked(): string[] {
    const now = this.deps.now();
    const out: string[] = [...this.busyLanes, ...this.callbacks.blockedLanes()];
    for (const [lane, until] of this.blockedUntil) {
      if (until > now) out.push(lane);
      else this.blockedUntil.delete(lane);
    }
    return out;
  }

  private pass(): void {
    if (this.slackBusy >= this.concurrency && this.callbacks.full) return;
    const now = this.deps.now();
    // A serial lane starts one row per pass; a few more cover rows held behind an earlier one.
    const rows = this.deps.approvals.outbox.due(now, this.concurrency * 2, this.blocked());
    const heldRequests = new Set<string>();
    for (const row of rows) {
      if (this.inFlight.has(row.id)) continue;
      const orderKey = `${row.requestId}|${row.lane}`;
      const callback = isCallbackLane(row.lane);
      const serialLane = row.lane.startsWith('slack:');
      if (heldRequests.has(orderKey) || (serialLane && this.busyLanes.has(row.lane))) continue;
      if (!callback && this.slackBusy >= this.concurrency) continue;
      if (this.deps.approvals.outbox.hasEarlierOpen(row)) {
        heldRequests.add(orderKey);
        continue;
      }
      let slot: CallbackSlot | null = null;
      if (callback) {
        slot = this.callbacks.acquire(row.lane, (row.payload as { url?: string }).url ?? '');
        if (slot === null) continue;
      } else this.slackBusy++;
      heldRequests.add(orderKey);
      if (serialLane) this.busyLanes.add(row.lane);
      const job = this.run(row, slot).finally(() => {
        this.inFlight.delete(row.id);
        if (serialLane) this.busyLanes.delete(row.lane);
        if (slot) this.callbacks.release(slot);
        else this.slackBusy--;
        this.wake();
      });
      this.inFlight.set(row.id, job);
    }
  }

  private async run(row: OutboxRow, slot: CallbackSlot | null): Promise<void> {
    const payload = row.payload as OutboxPayload;
    try {
      if (payload.kind === 'callback' && slot) return await this.runCallback(row, payload, slot);
      // Card updates queued before this render starts are covered by it (it reads the latest state).
      const covered =
        payload.kind === 'slack.update_card' && row.requestId
          ? this.deps.approvals.outbox.openIds(row.requestId, row.kind)
          : [];
      const result = await this.deps.slack.deliver(payload, row.requestId);
      const now = this.deps.now();
      if (result.kind === 'wait') {
        this.deps.approvals.outbox.retryLater(row.id, now + WAIT_MS, result.why, false);
        return;
      }
      this.deps.database.tx(() => {
        this.deps.approvals.outbox.markDone(row.id, now);
        for (const id of covered) this.deps.approvals.outbox.markDone(id, now);
      });
    } catch (err) {
      const now = this.deps.now();
      const limited = rateLimitMs(err);
      if (limited !== null) {
        this.blockedUntil.set(row.lane, now + limited);
        this.deps.approvals.outbox.retryLater(row.id, now + limited, 'rate limited by Slack', false);
        // Resume the lane when the pause ends, not at the next poll: waiting for the poll (up to
        // pollMs) after every pause would add up along a long queue.
        setTimeout(() => this.wake(), limited + 1).unref();
        this.deps.log.info('slack rate limit: pausing lane', { lane: row.lane, ms: limited });
        return;
      }
      const problem = permanentSlackError(err);
      if (problem) return await this.undeliverable(row, payload, problem);
      const delay = slackDelay(row.attempts);
      this.deps.approvals.outbox.retryLater(row.id, now + delay, describe(err));
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
    const request = row.requestId ? this.deps.approvals.requests.get(row.requestId) : null;
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
      this.deps.database.tx(() => {
        this.deps.approvals.outbox.markDone(row.id, now);
        this.deps.audit.append(
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
      this.deps.database.tx(() => {
        this.deps.approvals.outbox.giveUp(row.id, now, result.error);
        this.deps.audit.append(
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
    this.deps.approvals.outbox.retryLater(row.id, now + delay, result.error);
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
      this.deps.slack.markUndeliverable(row.requestId, error);
    const delay = slackDelay(row.attempts);
    this.deps.approvals.outbox.retryLater(row.id, this.deps.now() + delay, `${error.code}: ${error.message}`);
    this.deps.log.error(`slack refuses ${payload.kind}: ${error.message}`, {
      requestId: row.requestId,
      kind: row.kind,
      code: error.code,
      fix: error.message,
      attempt: row.attempts + 1,
      retryInMs: delay,
    });
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
