import { exportJWK, importSPKI, type JSONWebKeySet } from 'jose';
import { MAX_ATTESTATION_TTL_SECONDS } from '../core/policy-types.js';
import { ATTESTATION_ALG } from './attestation-verify.js';

/** An audit public key (a row of `audit_keys`) and when it stopped signing. */
export interface PublishedKey {
  keyId: string;
  /** SPKI PEM of the Ed25519 public key. */
  publicKeyPem: string;
  /** When another key took over (Unix ms); null while it is the key in use. */
  retiredAt: number | null;
}

/**
 * When each audit key stopped signing, from the key events in chain order (`audit.key_registered`
 * and `audit.key_activated`, each naming the key that became current): a key is retired when the
 * next event names another key, and current again if a later event names it.
 */
export function keyRetirements(events: readonly { at: number; keyId: string }[]): Map<string, number | null> {
  const retired = new Map<string, number | null>();
  let current: string | null = null;
  for (const event of events) {
    if (current !== null && current !== event.keyId) retired.set(current, event.at);
    retired.set(event.keyId, null);
    current = event.keyId;
  }
  return retired;
}

/**
 * The JWKS served at `GET /.well-known/jwks.json`: the keys that may have signed an attestation
 * that is still valid. That is the current key(s), and each retired key until the longest
 * attestation lifetime a policy may set has passed since it stopped signing; keys retired longer
 * ago are left out, since nothing they signed can still be valid.
 */
export async function jwksDocument(
  keys: readonly PublishedKey[],
  now: number,
  maxLifetimeSeconds: number = MAX_ATTESTATION_TTL_SECONDS,
): Promise<JSONWebKeySet> {
  const live = keys.filter((k) => k.retiredAt === null || now < k.retiredAt + maxLifetimeSeconds * 1000);
  const out: JSONWebKeySet = { keys: [] };
  for (const key of live) {
    const publicKey = await importSPKI(key.publicKeyPem, ATTESTATION_ALG, { extractable: true });
    const jwk = await exportJWK(publicKey);
    out.keys.push({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: key.keyId, alg: ATTESTATION_ALG, use: 'sig' });
  }
  return out;
}
