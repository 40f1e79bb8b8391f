import type { ClientSecret } from '../config.js';
import { checkCallbackUrl } from '../egress/callback-url.js';
import { postPinned, type Resolver } from '../egress/pinned-post.js';
import { signPayload } from '../http/verify-signature.js';

export interface CallbackPayload {
  url: string;
  webhookId: string;
  body: string;
}

export interface DeliverOptions {
  /** The whole attempt (default 10 s). */
  timeoutMs?: number;
  /** Resolving the host and connecting to it (default 3 s). */
  connectTimeoutMs?: number;
  /** `COUNTERSIGN_CALLBACK_ALLOW`, as configured: checked again at every attempt. */
  allow: readonly string[];
  /** Resolves host names (tests inject one; the system resolver by default). */
  resolve?: Resolver;
}

/**
 * `permanent`: the URL or its address is refused; retrying cannot help. `status`: the receiver
 * answered, not 2xx (without it, it could not be reached or did not answer in time).
 */
export type CallbackResult =
  | { ok: true; status: number }
  | { ok: false; error: string; permanent?: boolean; status?: number };

/**
 * One signed POST of a callback. Signed with every key the client has (several during rotation;
 * Standard Webhooks allows several signatures). The URL is checked against the allow-list again and
 * delivered to the address that was checked (egress/pinned-post.ts): a loopback, private, link-local
 * or metadata address is refused unless an allow-list entry names the host. Redirects are not
 * followed: a 3xx is a failure.
 */
export async function deliverCallback(
  payload: CallbackPayload,
  keys: readonly ClientSecret[],
  nowMs: number,
  opts: DeliverOptions,
): Promise<CallbackResult> {
  const checked = checkCallbackUrl(payload.url, opts.allow);
  if (!checked.ok) return { ok: false, error: `refused: callback_url ${checked.message}`, permanent: true };
  const ts = Math.floor(nowMs / 1000);
  const signatures = keys.map(
    (k) => signPayload(k.key, payload.webhookId, ts, payload.body)['webhook-signature'],
  );
  return postPinned(checked.url, {
    headers: {
      'content-type': 'application/json',
      'user-agent': 'countersign-callback/1',
      'webhook-id': payload.webhookId,
      'webhook-timestamp': String(ts),
      'webhook-signature': signatures.join(' '),
    },
    body: payload.body,
    timeoutMs: opts.timeoutMs ?? 10_000,
    connectTimeoutMs: opts.connectTimeoutMs ?? 3_000,
    hostNamed: checked.hostNamed,
    ...(opts.resolve ? { resolve: opts.resolve } : {}),
  });
}
