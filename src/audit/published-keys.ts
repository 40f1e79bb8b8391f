import { asc, inArray } from 'drizzle-orm';
import { keyRetirements, type PublishedKey } from '../identity/jwks-document.js';
import type { Db } from '../store/db.js';
import { auditEvents, auditKeys } from '../store/schema.js';

/**
 * Every audit key with when it stopped signing, from `audit_keys` and the key events of the chain
 * (`audit.key_registered`, `audit.key_activated`): what `GET /.well-known/jwks.json` publishes from.
 * A key no key event names counts as retired when it was stored.
 */
export function publishedKeys(db: Db): PublishedKey[] {
  const events = db
    .select({ at: auditEvents.at, data: auditEvents.data })
    .from(auditEvents)
    .where(inArray(auditEvents.type, ['audit.key_registered', 'audit.key_activated']))
    .orderBy(asc(auditEvents.seq))
    .all()
    .flatMap((e) => {
      const keyId = (JSON.parse(e.data) as { key_id?: unknown }).key_id;
      return typeof keyId === 'string' ? [{ at: e.at, keyId }] : [];
    });
  const retired = keyRetirements(events);
  return db
    .select()
    .from(auditKeys)
    .all()
    .map((k) => ({
      keyId: k.keyId,
      publicKeyPem: k.publicKey,
      retiredAt: retired.has(k.keyId) ? (retired.get(k.keyId) ?? null) : k.createdAt,
    }));
}
