import { desc, eq } from 'drizzle-orm';
import type { Db } from '../store/db.js';
import { auditEvents, auditKeys } from '../store/schema.js';
import { canonicalJson, chainHash, GENESIS_HASH, SIGNED_TYPES, signHash } from './chain.js';
import type { SigningKey } from './keys.js';

export interface AuditInput {
  type: string;
  requestId?: string | null;
  /** Who did it: a Slack user ID, `client:<name>`, `policy`, `system`. */
  actor: string;
  data: Record<string, unknown>;
}

/**
 * Appends hash-chained events. `append` must be called inside the caller's immediate transaction,
 * so an event is written if and only if the change it records is.
 */
export class AuditLog {
  constructor(
    private readonly db: Db,
    private readonly key: SigningKey,
  ) {}

  /** Records the signing key's public half (once per key) so old signatures stay verifiable. */
  registerKey(now: number): boolean {
    const known = this.db.select().from(auditKeys).where(eq(auditKeys.keyId, this.key.keyId)).get();
    if (known) return false;
    this.db
      .insert(auditKeys)
      .values({ keyId: this.key.keyId, publicKey: this.key.publicKeyPem, createdAt: now })
      .run();
    this.append(
      {
        type: 'audit.key_registered',
        actor: 'system',
        data: { key_id: this.key.keyId, source: this.key.source },
      },
      now,
    );
    return true;
  }

  head(): { seq: number; hash: string } {
    const row = this.db
      .select({ seq: auditEvents.seq, hash: auditEvents.hash })
      .from(auditEvents)
      .orderBy(desc(auditEvents.seq))
      .limit(1)
      .get();
    return row ?? { seq: 0, hash: GENESIS_HASH };
  }

  append(event: AuditInput, now: number): { seq: number; hash: string } {
    const prev = this.head();
    const seq = prev.seq + 1;
    const signed = SIGNED_TYPES.has(event.type);
    const keyId = signed ? this.key.keyId : null;
    const content = {
      seq,
      at: new Date(now).toISOString(),
      type: event.type,
      request_id: event.requestId ?? null,
      actor: event.actor,
      data: event.data,
      key_id: keyId,
    };
    const hash = chainHash(prev.hash, content);
    this.db
      .insert(auditEvents)
      .values({
        seq,
        at: now,
        type: event.type,
        requestId: content.request_id,
        actor: event.actor,
        data: canonicalJson(event.data),
        prevHash: prev.hash,
        hash,
        keyId,
        signature: signed ? signHash(hash, this.key.privateKey) : null,
      })
      .run();
    return { seq, hash };
  }
}
