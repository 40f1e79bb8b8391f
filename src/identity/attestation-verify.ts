import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';

/**
 * Offline verification of approval attestations (CONTRACT §12). Imports nothing from the server,
 * so the client (bundled for pipelines) carries it.
 */

/** The JWS `typ` of an attestation. */
export const ATTESTATION_TYP = 'countersign-approval+jwt';
export const ATTESTATION_ALG = 'EdDSA';

/** The claims of an approval attestation. */
export interface AttestationClaims {
  /** COUNTERSIGN_PUBLIC_URL of the server that signed it, when set. */
  iss?: string;
  /** The request id. */
  sub: string;
  action: string;
  resource: string | null;
  environment: string | null;
  /** The client (COUNTERSIGN_CLIENTS or COUNTERSIGN_OIDC entry) that asked. */
  client: string;
  /** Hex SHA-256 of the exact request body that was approved. */
  payload_sha256: string;
  /** Slack user IDs of the people who approved (empty for a policy `auto_approve`). */
  approvers: string[];
  /** Issued at the decision, and valid until `exp` (Unix seconds). */
  iat: number;
  exp: number;
}

export type AttestationCheck =
  | 'format'
  | 'signature'
  | 'typ'
  | 'expiry'
  | 'claims'
  | 'payload'
  | 'action'
  | 'issuer';

export interface AttestationFailure {
  check: AttestationCheck;
  message: string;
}

export type AttestationResult =
  | { ok: true; claims: AttestationClaims; keyId: string | null }
  /** `claims` is set when the signature held (the token is genuine, another check failed). */
  | { ok: false; failures: AttestationFailure[]; claims: AttestationClaims | null };

export interface VerifyAttestationOptions {
  /** The time to check expiry at (default now). */
  now?: number | Date;
  /** When given, the attestation must be for a body with this hex SHA-256. */
  payloadSha256?: string;
  /** When given, the attestation must be for this action. */
  action?: string;
  /** When given, `iss` must be exactly this (the server's COUNTERSIGN_PUBLIC_URL). */
  issuer?: string;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/**
 * Verifies an attestation with a JWKS (the server's `/.well-known/jwks.json`): its EdDSA signature,
 * its `typ`, that it has not expired, and, when asked, the payload's SHA-256, the action and the
 * issuer. Never throws for a bad token: every failed check is named in `failures`.
 */
export async function verifyAttestation(
  token: string,
  jwks: JSONWebKeySet,
  opts: VerifyAttestationOptions = {},
): Promise<AttestationResult> {
  const failures: AttestationFailure[] = [];
  const now = opts.now === undefined ? new Date() : new Date(opts.now);
  let payload: JWTPayload;
  let keyId: string | null = null;
  try {
    const verified = await jwtVerify(token.trim(), createLocalJWKSet(jwks), {
      algorithms: [ATTESTATION_ALG],
      typ: ATTESTATION_TYP,
      currentDate: now,
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    payload = verified.payload;
    keyId = typeof verified.protectedHeader.kid === 'string' ? verified.protectedHeader.kid : null;
  } catch (err) {
    // Claim checks run after the signature held, so the payload of these errors is genuine.
    if (err instanceof errors.JWTExpired) {
      payload = err.payload;
      failures.push({ check: 'expiry', message: `the approval expired at ${iso(Number(err.payload.exp))}` });
    } else if (err instanceof errors.JWTClaimValidationFailed) {
      payload = err.payload;
      failures.push(
        err.claim === 'typ'
          ? {
              check: 'typ',
              message: `the token's typ is not ${ATTESTATION_TYP}: it is not an approval attestation`,
            }
          : {
              check: 'claims',
              message: `its "${err.claim}" claim is ${err.reason === 'missing' ? 'missing' : 'invalid'}`,
            },
      );
    } else {
      return { ok: false, failures: [signatureFailure(err)], claims: null };
    }
  }
  const claims = readClaims(payload);
  if (claims === null) {
    failures.push({ check: 'claims', message: 'its claims are not those of an approval attestation' });
    return { ok: false, failures, claims: null };
  }
  if (opts.payloadSha256 !== undefined && opts.payloadSha256.toLowerCase() !== claims.payload_sha256) {
    failures.push({
      check: 'payload',
      message: `the payload's SHA-256 is ${opts.payloadSha256.toLowerCase()}, but the approval is for ${claims.payload_sha256}`,
    });
  }
  if (opts.action !== undefined && opts.action !== claims.action) {
    failures.push({
      check: 'action',
      message: `the approval is for action "${claims.action}", not "${opts.action}"`,
    });
  }
  if (opts.issuer !== undefined && opts.issuer !== claims.iss) {
    failures.push({
      check: 'issuer',
      message: `the approval was issued by ${claims.iss ?? '(no iss)'}, not ${opts.issuer}`,
    });
  }
  return failures.length === 0 ? { ok: true, claims, keyId } : { ok: false, failures, claims };
}

function signatureFailure(err: unknown): AttestationFailure {
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return {
      check: 'signature',
      message: 'the signature does not verify: the token was altered or signed by another key',
    };
  }
  if (err instanceof errors.JWKSNoMatchingKey) {
    return {
      check: 'signature',
      message: 'no key in the JWKS matches the token (unknown kid, or not an EdDSA token)',
    };
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return { check: 'signature', message: 'the token is not signed with EdDSA' };
  }
  return { check: 'format', message: `not a compact JWS (${(err as Error).message})` };
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

function readClaims(p: JWTPayload): AttestationClaims | null {
  const c = p as Record<string, unknown>;
  const ok =
    typeof c.sub === 'string' &&
    typeof c.action === 'string' &&
    strOrNull(c.resource) &&
    strOrNull(c.environment) &&
    typeof c.client === 'string' &&
    typeof c.payload_sha256 === 'string' &&
    HEX_SHA256.test(c.payload_sha256) &&
    Array.isArray(c.approvers) &&
    c.approvers.every((a) => typeof a === 'string') &&
    Number.isInteger(c.iat) &&
    Number.isInteger(c.exp) &&
    (c.iss === undefined || typeof c.iss === 'string');
  return ok ? (c as unknown as AttestationClaims) : null;
}
