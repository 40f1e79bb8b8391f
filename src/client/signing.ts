import { createHash } from 'node:crypto';
import { signedPayload, signPayload, verifySignature } from '../http/verify-signature.js';
import { CountersignError } from './errors.js';
import type { CallbackEvent } from './types.js';

/** Decodes a Standard Webhooks secret (`whsec_` + base64) into its HMAC key; throws a clear error otherwise. */
export function decodeSecret(secret: string): Buffer {
  const trimmed = secret.trim();
  const b64 = trimmed.startsWith('whsec_') ? trimmed.slice('whsec_'.length) : null;
  const key = b64 !== null && /^[A-Za-z0-9+/]+={0,2}$/.test(b64) ? Buffer.from(b64, 'base64') : null;
  if (!key || key.length < 16) {
    throw new CountersignError(
      'the secret must be a Standard Webhooks secret: whsec_ followed by base64 of at least 16 bytes',
      { code: 'bad_secret_format' },
    );
  }
  return key;
}

/** The path that creates a request: the one POST signed over its body alone. */
const CREATE_PATH = '/api/v1/requests';

/**
 * What an API call signs (CONTRACT §3): the raw body to create a request; the request target
 * exactly as sent (`/api/v1/requests/req_...?wait=30`) for a call without a body; for every other
 * POST (cancel, consume) the target, a line feed, then the raw body, so that a captured call
 * cannot be replayed against another request.
 */
export function signedPayloadFor(method: 'GET' | 'POST', target: string, body: string | undefined): Buffer {
  if (method === 'GET') return signedPayload('target', target, '');
  const path = target.split('?', 1)[0];
  return signedPayload(path === CREATE_PATH ? 'body' : 'target_and_body', target, body ?? '');
}

/** The three Standard Webhooks headers for one call. */
export function signedHeaders(key: Buffer, webhookId: string, nowMs: number, payload: string | Buffer) {
  return signPayload(key, webhookId, Math.floor(nowMs / 1000), payload);
}

/**
 * Hex SHA-256 of a request body exactly as the client sends it (`JSON.stringify(body)`), or of a
 * string or bytes as given. Equals the server's `payload_sha256` for the same request.
 */
export function payloadSha256(body: object | string | Uint8Array): string {
  const bytes = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  return createHash('sha256').update(bytes).digest('hex');
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function headerOf(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : bag[key];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Checks a callback's Standard Webhooks signature over the raw body bytes (as received, before any
 * JSON parsing) and its timestamp (±300 s), then returns the parsed event. Throws a
 * CountersignError with code `invalid_signature` when it does not verify.
 */
export function verifyCallback(
  rawBody: string | Buffer,
  headers: HeaderBag,
  secrets: string | readonly string[],
  nowMs = Date.now(),
): CallbackEvent {
  const keys = (typeof secrets === 'string' ? [secrets] : secrets).map((s) => ({
    name: 'countersign',
    key: decodeSecret(s),
  }));
  const verified = verifySignature(
    {
      id: headerOf(headers, 'webhook-id'),
      timestamp: headerOf(headers, 'webhook-timestamp'),
      signature: headerOf(headers, 'webhook-signature'),
    },
    rawBody,
    keys,
    nowMs,
  );
  if (!verified.ok) {
    throw new CountersignError(`the callback does not verify: ${verified.why}`, {
      code: 'invalid_signature',
    });
  }
  try {
    return JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8')) as CallbackEvent;
  } catch (err) {
    throw new CountersignError('the callback body is not JSON', { code: 'bad_response', cause: err });
  }
}
