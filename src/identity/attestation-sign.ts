import { type KeyObject, sign } from 'node:crypto';
import { ATTESTATION_ALG, ATTESTATION_TYP, type AttestationClaims } from './attestation-verify.js';

/** The facts of an approved request that its attestation states. */
export interface AttestationFacts {
  requestId: string;
  action: string;
  resource: string | null;
  environment: string | null;
  client: string;
  payloadSha256: string;
  /** Slack user IDs of those who approved, in vote order; empty for a policy `auto_approve`. */
  approvers: string[];
  /** When the request was approved (Unix ms). */
  decidedAt: number;
  /** How long the attestation stays valid after the decision (policy `attestation_ttl_seconds`). */
  ttlSeconds: number;
  /** COUNTERSIGN_PUBLIC_URL, or null to leave `iss` out. */
  issuer: string | null;
}

/** The audit signing key (src/audit/keys.ts `SigningKey`), or the part of it this needs. */
export interface AttestationKey {
  keyId: string;
  privateKey: KeyObject;
}

/** The claims an attestation of `facts` carries (`iat` and `exp` in whole seconds). */
export function attestationClaims(facts: AttestationFacts): AttestationClaims {
  const iat = Math.floor(facts.decidedAt / 1000);
  return {
    ...(facts.issuer === null ? {} : { iss: facts.issuer }),
    sub: facts.requestId,
    action: facts.action,
    resource: facts.resource,
    environment: facts.environment,
    client: facts.client,
    payload_sha256: facts.payloadSha256,
    approvers: [...facts.approvers],
    iat,
    exp: iat + facts.ttlSeconds,
  };
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/**
 * Signs an approval attestation (CONTRACT §12): a compact JWS, `alg` EdDSA with the audit key,
 * `kid` the audit key's id, `typ` `countersign-approval+jwt`. Synchronous (Ed25519 with node:crypto,
 * which is what jose does underneath), so it runs inside the transaction that records the approval
 * whatever the store; verification (attestation-verify.ts) uses jose.
 */
export function signAttestation(key: AttestationKey, facts: AttestationFacts): string {
  if (key.privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(
      `attestations are signed with the Ed25519 audit key; got a ${key.privateKey.asymmetricKeyType} key`,
    );
  }
  const header = { alg: ATTESTATION_ALG, kid: key.keyId, typ: ATTESTATION_TYP };
  const input = `${b64url(header)}.${b64url(attestationClaims(facts))}`;
  const signature = sign(null, Buffer.from(input, 'ascii'), key.privateKey).toString('base64url');
  return `${input}.${signature}`;
}

/** When a stored attestation stops being valid (Unix ms), read from its `exp`; null when unreadable. */
export function attestationExpiresAt(token: string): number | null {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return Number.isInteger(claims?.exp) ? (claims.exp as number) * 1000 : null;
  } catch {
    return null;
  }
}
