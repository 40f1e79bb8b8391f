import type { Store, Tx } from '../store/store.js';
import type { AuditLog } from './audit-log.js';

/** Every ten minutes by default, and only when something was recorded since the last one. */
export const CHECKPOINT_INTERVAL_MS = 10 * 60 * 1000;

/**
 * A periodic checkpoint is skipped while the latest checkpoint (whichever replica took it) is
 * younger than this share of the interval: replicas started minutes apart each run a timer, and
 * together they take one checkpoint per interval, not one each. Below 1 so that a replica whose
 * timer fires a little early (or whose clock is a little behind) does not skip a whole interval.
 */
export const PERIODIC_MIN_AGE_SHARE = 0.9;

export type CheckpointReason = 'periodic' | 'shutdown' | 'manual';

/**
 * A signed statement of the head of the log. It is itself the `audit.checkpoint` event at `seq`:
 * `hash` is that event's chain hash (which commits to every earlier event and to the time) and
 * `signature` is that event's Ed25519 signature over the hash bytes. The same four values are
 * kept in `audit_checkpoints` and, when an audit channel is set, posted to Slack.
 */
export interface Checkpoint {
  id: number;
  seq: number;
  hash: string;
  /** Unix milliseconds. */
  at: number;
  keyId: string;
  signature: string;
  reason: CheckpointReason;
}

export interface CheckpointerOptions {
  store: Store;
  audit: AuditLog;
  /** Called inside the checkpoint's transaction (e.g. to queue the Slack post in the outbox). */
  onCheckpoint?: (t: Tx, checkpoint: Checkpoint) => Promise<void>;
}

/** Records checkpoints: the audit event and its `audit_checkpoints` row in one transaction. */
export class Checkpointer {
  constructor(private readonly opts: CheckpointerOptions) {}

  /** The latest stored checkpoint row, or null. */
  latest(): Promise<{ seq: number; hash: string; at: number } | null> {
    return this.opts.store.audit.latestCheckpoint();
  }

  /**
   * Records a checkpoint when at least one event was added since the last one; otherwise null.
   * The chain head is held first, so replicas taking one at the same moment record it once.
   */
  take(now: number, reason: CheckpointReason): Promise<Checkpoint | null> {
    return this.record(now, reason, 0);
  }

  /**
   * The periodic checkpoint of a timer of period `intervalMs`: as `take`, and also null while the
   * latest checkpoint, by any replica, is younger than `PERIODIC_MIN_AGE_SHARE` of the interval.
   */
  takePeriodic(now: number, intervalMs: number): Promise<Checkpoint | null> {
    return this.record(now, 'periodic', intervalMs * PERIODIC_MIN_AGE_SHARE);
  }

  /** Both checks read under the chain head's lock, in the transaction that records the checkpoint. */
  private record(now: number, reason: CheckpointReason, minAgeMs: number): Promise<Checkpoint | null> {
    const { store, audit, onCheckpoint } = this.opts;
    return store.transaction(async (t): Promise<Checkpoint | null> => {
      const head = await audit.head(t);
      const last = await t.audit.latestCheckpoint();
      if (head.seq === 0 || (last !== null && head.seq <= last.seq)) return null;
      if (last !== null && now - last.at < minAgeMs) return null;
      const event = await audit.append(
        t,
        {
          type: 'audit.checkpoint',
          actor: 'system',
          data: {
            reason,
            previous_checkpoint: last ? { seq: last.seq, hash: last.hash } : null,
          },
        },
        now,
      );
      if (event.keyId === null || event.signature === null)
        throw new Error('audit.checkpoint must be a signed event type');
      const id = await t.audit.insertCheckpoint({
        seq: event.seq,
        headHash: event.hash,
        at: event.at,
        keyId: event.keyId,
        signature: event.signature,
      });
      const checkpoint: Checkpoint = {
        id,
        seq: event.seq,
        hash: event.hash,
        at: event.at,
        keyId: event.keyId,
        signature: event.signature,
        reason,
      };
      await onCheckpoint?.(t, checkpoint);
      return checkpoint;
    });
  }

  /**
   * Takes a periodic checkpoint every `intervalMs` (timer unref'd), skipped when another replica's
   * timer took one less than an interval ago (`takePeriodic`). Errors are reported to
   * `onError` and never stop the timer. `afterTake` runs after a checkpoint was committed.
   */
  schedule(opts: {
    intervalMs: number;
    now: () => number;
    onError: (err: unknown) => void;
    afterTake?: (checkpoint: Checkpoint) => void;
  }): { stop(): void } {
    const timer = setInterval(() => {
      this.takePeriodic(opts.now(), opts.intervalMs).then((taken) => {
        if (taken) opts.afterTake?.(taken);
      }, opts.onError);
    }, opts.intervalMs);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }
}
