import { keyRetirements, type PublishedKey } from '../identity/jwks-document.js';
import type { Store } from '../store/store.js';

/**
 * Every audit key with when it stopped signing, from `audit_keys` and the key events of the chain
 * (`audit.key_registered`, `audit.key_activated`): what `GET /.well-known/jwks.json` publishes from.
 * A key no key event names counts as retired when it was stored.
 */
export async function publishedKeys(store: Pick<Store, 'audit'>): Promise<PublishedKey[]> {
  const events = (await store.audit.eventsOfTypes(['audit.key_registered', 'audit.key_activated'])).flatMap(
    (e) => {
      const keyId = (JSON.parse(e.data) as { key_id?: unknown }).key_id;
      return typeof keyId === 'string' ? [{ at: e.at, keyId }] : [];
    },
  );
  const retired = keyRetirements(events);
  return (await store.audit.keys()).map((k) => ({
    keyId: k.keyId,
    publicKeyPem: k.publicKey,
    retiredAt: retired.has(k.keyId) ? (retired.get(k.keyId) ?? null) : k.createdAt,
  }));
}
