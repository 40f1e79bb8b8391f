import { desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../store/db.js';
import { auditEvents, auditKeys } from '../store/schema.js';
import { canonicalJson, GENESIS_HASH, SIGNED_TYPES, signHash, storedEventHash } from './chain.js';
import type { SigningKey } from './keys.js';

export interface AuditInput {
  type: string;
  requestId?: string | null;
  /** Who did it: a Slack user ID, `client:<name>`, `policy`, `system`. */
  actor: string;
  data: Record<string, unknown>;
}

export interface AppendedEvent {
  seq: number;
  hash: string;
  at: number;
  /** Set for signed types (SIGNED_TYPES). */
  keyId: string | null;
  signature: string | null;
}

/** The events that say which key signs from then on. */
const KEY_EVENTS = ['audit.key_registered', 'audit.key_activated'];
/** The events that say which policy is in force from then on. */
const POLICY_EVENTS = ['config.policy_loaded', 'config.policy_reloaded'];

const p = (name: string) => sql.placeholder(name);

/** The statements of `append`, prepared once: building a drizzle query costs more than running it. */
function statements(db: Db) {
  return {
    head: db
      .select({ seq: auditEvents.seq, hash: auditEvents.hash })
      .from(auditEvents)
      .orderBy(desc(auditEvents.seq))
      .limit(1)
      .prepare(),
    insert: db
      .insert(auditEvents)
      .values({
        seq: p('seq'),
        at: p('at'),
        type: p('type'),
        requestId: p('requestId'),
        actor: p('actor'),
        data: p('data'),
        prevHash: p('prevHash'),
        hash: p('hash'),
        keyId: p('keyId'),
        signature: p('signature'),
      })
      .prepare(),
  };
}

/**
 * Appends hash-chained events. `append` must be called inside the caller's immediate transaction,
 * so an event is written if and only if the change it records is.
 */
export class AuditLog {
  /** The two statements of every append, prepared once. */
  private readonly q: ReturnType<typeof statements>;

  constructor(
    private readonly db: Db,
    private readonly key: SigningKey,
  ) {
    this.q = statements(db);
  }

  get keyId(): string {
    return this.key.keyId;
  }

  /**
   * Call at start, inside a transaction. A key never seen before is stored in `audit_keys` (public
   * half only; rows are never removed, so old signatures stay verifiable) and announced by
   * `audit.key_registered`, which carries the public key into the chain. Going back to a key used
   * earlier is announced by `audit.key_activated`.
   */
  registerKey(now: number): 'registered' | 'activated' | 'unchanged' {
    const previous = this.currentKeyId();
    const known = this.db.select().from(auditKeys).where(eq(auditKeys.keyId, this.key.keyId)).get();
    if (!known) {
      this.db
        .insert(auditKeys)
        .values({ keyId: this.key.keyId, publicKey: this.key.publicKeyPem, createdAt: now })
        .run();
      this.append(
        {
          type: 'audit.key_registered',
          actor: 'system',
          data: {
            key_id: this.key.keyId,
            public_key: this.key.publicKeyPem,
            source: this.key.source,
            previous_key_id: previous,
          },
        },
        now,
      );
      return 'registered';
    }
    if (previous === this.key.keyId) return 'unchanged';
    this.append(
      {
        type: 'audit.key_activated',
        actor: 'system',
        data: { key_id: this.key.keyId, source: this.key.source, previous_key_id: previous },
      },
      now,
    );
    return 'activated';
  }

  /** The key id named by the latest key event, or null before any. */
  currentKeyId(): string | null {
    const data = this.lastData(KEY_EVENTS);
    return typeof data?.key_id === 'string' ? data.key_id : null;
  }

  /**
   * Call at start, inside a transaction: records `config.policy_loaded` when the policy in force
   * (null: no policy file) differs from the one the log last recorded, so a policy changed while
   * the server was down is visible in the trail, not only a SIGHUP reload.
   */
  recordPolicyInForce(policy: { path: string; hash: string } | null, now: number): boolean {
    const last = this.lastData(POLICY_EVENTS);
    const lastHash = typeof last?.hash === 'string' ? last.hash : null;
    if ((policy?.hash ?? null) === lastHash) return false;
    this.append(
      {
        type: 'config.policy_loaded',
        actor: 'system',
        data: { path: policy?.path ?? null, hash: policy?.hash ?? null, previous_hash: lastHash },
      },
      now,
    );
    return true;
  }

  head(): { seq: number; hash: string } {
    return this.q.head.get() ?? { seq: 0, hash: GENESIS_HASH };
  }

  append(event: AuditInput, now: number): AppendedEvent {
    const prev = this.head();
    const seq = prev.seq + 1;
    const signed = SIGNED_TYPES.has(event.type);
    const keyId = signed ? this.key.keyId : null;
    const requestId = event.requestId ?? null;
    // The data's canonical JSON is made once: it is stored, and spliced as is into the hashed
    // content (`storedEventHash`, what `audit verify` recomputes; a property test holds it equal to
    // `chainHash` over the whole content).
    const data = canonicalJson(event.data);
    const hash = storedEventHash(prev.hash, {
      seq,
      at: now,
      type: event.type,
      request_id: requestId,
      actor: event.actor,
      data,
      key_id: keyId,
    });
    const signature = signed ? signHash(hash, this.key.privateKey) : null;
    this.q.insert.run({
      seq,
      at: now,
      type: event.type,
      requestId,
      actor: event.actor,
      data,
      prevHash: prev.hash,
      hash,
      keyId,
      signature,
    });
    return { seq, hash, at: now, keyId, signature };
  }

  /** The data of the latest event of one of `types` (a backward scan; used at start only). */
  private lastData(types: string[]): Record<string, unknown> | null {
    const row = this.db
      .select({ data: auditEvents.data })
      .from(auditEvents)
      .where(inArray(auditEvents.type, types))
      .orderBy(desc(auditEvents.seq))
      .limit(1)
      .get();
    return row ? (JSON.parse(row.data) as Record<string, unknown>) : null;
  }
}
