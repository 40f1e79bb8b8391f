import { desc } from 'drizzle-orm';
import type { OpenDatabase } from '../store/db.js';
import { auditCheckpoints } from '../store/schema.js';
import type { AuditLog } from './audit-log.js';

/** Every ten minutes by default, and only when something was recorded since the last one. */
export const CHECKPOINT_INTERVAL_MS = 10 * 60 * 1000;

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
  database: OpenDatabase;
  audit: AuditLog;
  /** Called inside the checkpoint's transaction (e.g. to queue the Slack post in the outbox). */
  onCheckpoint?: (checkpoint: Checkpoint) => void;
}

/** Records checkpoints: the audit event and its `audit_checkpoints` row in one transaction. */
export class Checkpointer {
  constructor(private readonly opts: CheckpointerOptions) {}

  /** The latest stored checkpoint row, or null. */
  latest(): { seq: number; hash: string; at: number } | null {
    const row = this.opts.database.db
      .select({ seq: auditCheckpoints.seq, hash: auditCheckpoints.headHash, at: auditCheckpoints.at })
      .from(auditCheckpoints)
      .orderBy(desc(auditCheckpoints.seq))
      .limit(1)
      .get();
    return row ?? null;
  }

  /** Records a checkpoint when at least one event was added since the last one; otherwise null. */
  take(now: number, reason: CheckpointReason): Checkpoint | null {
    const { database, audit, onCheckpoint } = this.opts;
    return database.tx((): Checkpoint | null => {
      const last = this.latest();
      const head = audit.head();
      if (head.seq === 0 || (last !== null && head.seq <= last.seq)) return null;
      const event = audit.append(
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
      const inserted = database.db
        .insert(auditCheckpoints)
        .values({
          seq: event.seq,
          headHash: event.hash,
          at: event.at,
          keyId: event.keyId,
          signature: event.signature,
        })
        .returning({ id: auditCheckpoints.id })
        .get();
      const checkpoint: Checkpoint = {
        id: inserted.id,
        seq: event.seq,
        hash: event.hash,
        at: event.at,
        keyId: event.keyId,
        signature: event.signature,
        reason,
      };
      onCheckpoint?.(checkpoint);
      return checkpoint;
    });
  }

  /**
   * Takes a periodic checkpoint every `intervalMs` (timer unref'd). Errors are reported to
   * `onError` and never stop the timer. `afterTake` runs after a checkpoint was committed.
   */
  schedule(opts: {
    intervalMs: number;
    now: () => number;
    onError: (err: unknown) => void;
    afterTake?: (checkpoint: Checkpoint) => void;
  }): { stop(): void } {
    const timer = setInterval(() => {
      try {
        const taken = this.take(opts.now(), 'periodic');
        if (taken) opts.afterTake?.(taken);
      } catch (err) {
        opts.onError(err);
      }
    }, opts.intervalMs);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }
}
