import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
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

/**
 * Signs an approval attestation (CONTRACT §12): a compact JWS, `alg` EdDSA with the audit key,
 * `kid` the audit key's id, `typ` `countersign-approval+jwt`. Sign it once the decision is known
 * and store it in the same transaction as the approval.
 */
export async function signAttestation(key: AttestationKey, facts: AttestationFacts): Promise<string> {
  if (key.privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(
      `attestations are signed with the Ed25519 audit key; got a ${key.privateKey.asymmetricKeyType} key`,
    );
  }
  const claims = attestationClaims(facts);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: ATTESTATION_ALG, kid: key.keyId, typ: ATTESTATION_TYP })
    .sign(key.privateKey);
}
