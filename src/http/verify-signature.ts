import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ClientSecret } from '../config.js';

/** Standard Webhooks allows at most this much clock difference, either way. */
export const TOLERANCE_SECONDS = 300;

export interface SignatureHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

export type VerifyResult = { ok: true; client: string; webhookId: string } | { ok: false; why: string };

/**
 * What a call signs (CONTRACT §3): creating a request signs its raw body; a call without a body
 * (GET) signs its request target exactly as sent; every other POST signs the target, a line feed,
 * then the raw body, so a captured call cannot be aimed at another request.
 */
export type SignedAs = 'body' | 'target' | 'target_and_body';

/** The bytes that a call of kind `as` signs. */
export function signedPayload(as: SignedAs, target: string, body: Buffer | string): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  if (as === 'body') return bytes;
  if (as === 'target') return Buffer.from(target, 'utf8');
  return Buffer.concat([Buffer.from(`${target}\n`, 'utf8'), bytes]);
}

/**
 * The checks that need no body: all three headers present, the timestamp Unix seconds within
 * ±300 s of `nowMs`. Done before a body is read, so a stale or unsigned call costs no buffering.
 */
export function checkSignatureHeaders(
  headers: SignatureHeaders,
  nowMs: number,
): { ok: true } | { ok: false; why: string } {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature)
    return { ok: false, why: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, why: 'webhook-timestamp is not Unix seconds' };
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) {
    return { ok: false, why: 'webhook-timestamp is more than 300 s from the server clock' };
  }
  if (!signature.split(' ').some((part) => part.startsWith('v1,') && part.length > 3)) {
    return { ok: false, why: 'no v1 signature in webhook-signature' };
  }
  return { ok: true };
}

/**
 * Verifies Standard Webhooks headers over the exact payload bytes: the signature must match one of
 * the clients' secrets (constant-time compare) and the timestamp be within ±300 s of `nowMs`.
 * The first client whose secret verifies is the caller.
 */
export function verifySignature(
  headers: SignatureHeaders,
  payload: Buffer | string,
  clients: readonly ClientSecret[],
  nowMs: number,
): VerifyResult {
  const checked = checkSignatureHeaders(headers, nowMs);
  if (!checked.ok) return checked;
  const { id, timestamp, signature } = headers as Required<{ [K in keyof SignatureHeaders]: string }>;
  const offered: Buffer[] = [];
  for (const part of signature.split(' ')) {
    const [version, value] = part.split(',', 2);
    if (version === 'v1' && value) offered.push(Buffer.from(value, 'base64'));
  }
  const prefix = `${id}.${timestamp}.`;
  for (const client of clients) {
    const expected = createHmac('sha256', client.key).update(prefix).update(payload).digest();
    for (const sig of offered) {
      if (sig.length === expected.length && timingSafeEqual(sig, expected)) {
        return { ok: true, client: client.name, webhookId: id };
      }
    }
  }
  return { ok: false, why: 'signature does not match any client secret' };
}

/** Signs a payload the Standard Webhooks way (used for callbacks and by the CLI client). */
export function signPayload(key: Buffer, id: string, timestampSeconds: number, payload: string | Buffer) {
  const sig = createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(payload).digest('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${sig}`,
  };
}
