import { createHash } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import {
  type AttestationResult,
  type VerifyAttestationOptions,
  verifyAttestation,
} from '../identity/attestation-verify.js';
import { CountersignError } from './errors.js';

export type {
  AttestationCheck,
  AttestationClaims,
  AttestationFailure,
  AttestationResult,
} from '../identity/attestation-verify.js';

export interface VerifyApprovalOptions extends VerifyAttestationOptions {
  /**
   * The keys: a JWKS document, or the URL of one (the server's `/.well-known/jwks.json`).
   * Never take it from the token itself.
   */
  jwks: JSONWebKeySet | string | URL;
  /** The exact bytes the executor is about to act on; their SHA-256 must be the approved one. */
  payload?: string | Uint8Array;
  fetch?: typeof fetch;
}

/** Fetches a JWKS document; throws a CountersignError `jwks_unavailable` naming the URL and what went wrong. */
export async function fetchJwks(
  url: string | URL,
  fetchFn: typeof fetch = globalThis.fetch,
): Promise<JSONWebKeySet> {
  const fail = (why: string) =>
    new CountersignError(`cannot read the approval keys at ${String(url)}: ${why}`, {
      code: 'jwks_unavailable',
    });
  let res: Response;
  let text: string;
  try {
    res = await fetchFn(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(10_000),
    });
    text = await res.text();
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw fail(e.cause?.code ?? e.message);
  }
  if (res.status !== 200) throw fail(`HTTP ${res.status}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw fail('the answer is not JSON');
  }
  if (!isJwks(doc)) throw fail('the answer is not a JWKS ({"keys": [...]})');
  return doc;
}

export function isJwks(doc: unknown): doc is JSONWebKeySet {
  return doc !== null && typeof doc === 'object' && Array.isArray((doc as { keys?: unknown }).keys);
}

/**
 * Checks, offline once the keys are at hand, that an approval attestation is genuine and still
 * valid, and (when given) that it approves exactly `payload` (or `payloadSha256`) and `action`.
 * Resolves `{ok: true, claims}` or `{ok: false, failures}` naming every check that failed; throws
 * only when the JWKS cannot be fetched.
 *
 * ```ts
 * const check = await verifyApproval(outcome.attestation, { jwks: `${url}/.well-known/jwks.json`, payload: body, action: 'deploy.production' });
 * if (!check.ok) throw new Error(check.failures.map((f) => f.message).join('; '));
 * ```
 */
export async function verifyApproval(token: string, opts: VerifyApprovalOptions): Promise<AttestationResult> {
  const jwks =
    typeof opts.jwks === 'string' || opts.jwks instanceof URL
      ? await fetchJwks(opts.jwks, opts.fetch)
      : opts.jwks;
  const payloadSha256 =
    opts.payload !== undefined ? createHash('sha256').update(opts.payload).digest('hex') : opts.payloadSha256;
  return verifyAttestation(token, jwks, {
    ...(opts.now === undefined ? {} : { now: opts.now }),
    ...(payloadSha256 === undefined ? {} : { payloadSha256 }),
    ...(opts.action === undefined ? {} : { action: opts.action }),
    ...(opts.issuer === undefined ? {} : { issuer: opts.issuer }),
  });
}
