import type { ClientSecret } from '../config.js';
import { signPayload } from '../http/verify-signature.js';

export interface CallbackPayload {
  url: string;
  webhookId: string;
  body: string;
}

export type CallbackResult = { ok: true; status: number } | { ok: false; error: string };

/**
 * One signed POST of a callback. Signed with every key the client has (several during rotation;
 * Standard Webhooks allows several signatures). Redirects are not followed: a 3xx is a failure.
 */
export async function deliverCallback(
  payload: CallbackPayload,
  keys: readonly ClientSecret[],
  nowMs: number,
  timeoutMs = 10_000,
): Promise<CallbackResult> {
  const ts = Math.floor(nowMs / 1000);
  const signatures = keys.map(
    (k) => signPayload(k.key, payload.webhookId, ts, payload.body)['webhook-signature'],
  );
  try {
    const res = await fetch(payload.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'countersign-callback/1',
        'webhook-id': payload.webhookId,
        'webhook-timestamp': String(ts),
        'webhook-signature': signatures.join(' '),
      },
      body: payload.body,
    });
    await res.body?.cancel().catch(() => {});
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, error: `receiver answered ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return {
      ok: false,
      error: e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message),
    };
  }
}
