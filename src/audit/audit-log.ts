import type { AuditStore } from '../store/store.js';
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

/**
 * Appends hash-chained events. `append` must be called inside the caller's transaction, so an
 * event is written if and only if the change it records is.
 */
export class AuditLog {
  constructor(private readonly key: SigningKey) {}

  get keyId(): string {
    return this.key.keyId;
  }

  /**
   * Call at start, inside a transaction. A key never seen before is stored in `audit_keys` (public
   * half only; rows are never removed, so old signatures stay verifiable) and announced by
   * `audit.key_registered`, which carries the public key into the chain. Going back to a key used
   * earlier is announced by `audit.key_activated`.
   */
  async registerKey(
    t: { audit: AuditStore },
    now: number,
  ): Promise<'registered' | 'activated' | 'unchanged'> {
    await this.head(t); // replicas starting together register a key once
    const previous = await this.currentKeyId(t);
    if (!(await t.audit.keyKnown(this.key.keyId))) {
      await t.audit.insertKey(this.key.keyId, this.key.publicKeyPem, now);
      await this.append(
        t,
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
    await this.append(
      t,
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
  async currentKeyId(t: { audit: AuditStore }): Promise<string | null> {
    const data = await lastData(t, KEY_EVENTS);
    return typeof data?.key_id === 'string' ? data.key_id : null;
  }

  /**
   * Call at start, inside a transaction: records `config.policy_loaded` when the policy in force
   * (null: no policy file) differs from the one the log last recorded, so a policy changed while
   * the server was down is visible in the trail, not only a SIGHUP reload.
   */
  async recordPolicyInForce(
    t: { audit: AuditStore },
    policy: { path: string; hash: string } | null,
    now: number,
  ): Promise<boolean> {
    await this.head(t);
    const last = await lastData(t, POLICY_EVENTS);
    const lastHash = typeof last?.hash === 'string' ? last.hash : null;
    if ((policy?.hash ?? null) === lastHash) return false;
    await this.append(
      t,
      {
        type: 'config.policy_loaded',
        actor: 'system',
        data: { path: policy?.path ?? null, hash: policy?.hash ?? null, previous_hash: lastHash },
      },
      now,
    );
    return true;
  }

  /** The head of the chain, held until the transaction ends (see `AuditStore.lockHead`). */
  async head(t: { audit: AuditStore }): Promise<{ seq: number; hash: string }> {
    return (await t.audit.lockHead()) ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** Appends one event; call inside the transaction of the change it records. */
  async append(t: { audit: AuditStore }, event: AuditInput, now: number): Promise<AppendedEvent> {
    const prev = await this.head(t);
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
    await t.audit.insertEvent({
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
}

/** The data of the latest event of one of `types` (a backward scan; used at start only). */
async function lastData(t: { audit: AuditStore }, types: string[]): Promise<Record<string, unknown> | null> {
  const data = await t.audit.lastData(types);
  return data === null ? null : (JSON.parse(data) as Record<string, unknown>);
}
