import { randomUUID } from 'node:crypto';
import { CountersignError, errorFromResponse } from './errors.js';
import type { TokenProvider } from './oidc-token.js';
import { signedHeaders, signedPayloadFor } from './signing.js';

export interface TransportOptions {
  baseUrl: string;
  /** How calls prove the caller: Standard Webhooks signatures with this key, or an OIDC bearer token. */
  auth: { key: Buffer } | { bearer: TokenProvider };
  fetch: typeof fetch;
  now: () => number;
  newId: () => string;
  /** Time allowed for one attempt of a call that does not long-poll. */
  requestTimeoutMs: number;
  /** Extra attempts after a network error, a timeout or a 5xx/429. */
  retries: number;
  /** Delay before the first retry; it doubles up to 8 s. */
  retryBaseMs: number;
}

export interface CallOptions {
  /** Reused on every retry (the idempotency key of a POST); without it each attempt gets a new one. */
  webhookId?: string;
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
  /** How many extra attempts; defaults to the transport's. */
  retries?: number;
  /** Names the call in error messages, e.g. "creating the request". */
  what: string;
}

export interface Answer {
  status: number;
  body: unknown;
}

export const newWebhookId = () => `msg_${randomUUID().replaceAll('-', '')}`;

/** Whether trying the same call again may help: no answer, or a 5xx/429 that is not a configuration error. */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof CountersignError)) return false;
  if (err.status === null) return err.code === 'network_error' || err.code === 'timeout';
  if (err.code === 'no_channel') return false;
  return err.status === 429 || (err.status >= 500 && err.status !== 501);
}

export function retryDelay(base: number, attempt: number): number {
  return Math.min(base * 2 ** attempt, 8000) * (0.8 + Math.random() * 0.4);
}

/** Sleeps `ms`, or rejects with `aborted` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortedError(signal: AbortSignal): CountersignError {
  return new CountersignError('the call was aborted', { code: 'aborted', cause: signal.reason });
}

/** Signed HTTP calls to the Countersign API, with safe retries. */
export class Transport {
  constructor(private readonly o: TransportOptions) {}

  /**
   * One signed call with retries. `body` is the exact bytes to send. What is signed follows the
   * contract (`signedPayloadFor`): the body to create a request, the request target (path and query,
   * exactly as sent) without a body, and the target, a line feed and the body for any other POST.
   * Returns a 2xx answer or throws a CountersignError.
   */
  async call(method: 'GET' | 'POST', target: string, body: string | undefined, opts: CallOptions) {
    const retries = opts.retries ?? this.o.retries;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(method, target, body, opts);
      } catch (err) {
        if (attempt >= retries || !isRetryable(err) || opts.signal?.aborted) throw err;
        const hinted = err instanceof CountersignError ? retryAfterMs(err.body) : null;
        await sleep(hinted ?? retryDelay(this.o.retryBaseMs, attempt), opts.signal);
      }
    }
  }

  /** One attempt, no retry. */
  async once(
    method: 'GET' | 'POST',
    target: string,
    body: string | undefined,
    opts: CallOptions,
  ): Promise<Answer> {
    const url = new URL(`${this.o.baseUrl}${target}`);
    const id = opts.webhookId ?? this.o.newId();
    const payload = signedPayloadFor(method, `${url.pathname}${url.search}`, body);
    const headers: Record<string, string> = {
      // A bearer call still sends webhook-id: it stays the idempotency key.
      ...('key' in this.o.auth
        ? signedHeaders(this.o.auth.key, id, this.o.now(), payload)
        : { authorization: `Bearer ${await this.o.auth.bearer()}`, 'webhook-id': id }),
      'user-agent': 'countersign-client/1',
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = opts.timeoutMs ?? this.o.requestTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await this.o.fetch(url, { method, headers, body: body ?? null, signal, redirect: 'manual' });
      text = await res.text();
    } catch (err) {
      if (opts.signal?.aborted) throw abortedError(opts.signal);
      if (timeout.aborted) {
        throw new CountersignError(`${opts.what}: no answer from ${url.origin} within ${timeoutMs} ms`, {
          code: 'timeout',
          cause: err,
        });
      }
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.cause?.code ?? e.cause?.message ?? e.message;
      throw new CountersignError(`${opts.what}: cannot reach Countersign at ${url.origin} (${why})`, {
        code: 'network_error',
        cause: err,
      });
    }
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (res.status >= 200 && res.status < 300) {
      if (parsed === null || typeof parsed !== 'object') {
        throw new CountersignError(`${opts.what}: the server answered ${res.status} without a JSON object`, {
          status: res.status,
          code: 'bad_response',
        });
      }
      return { status: res.status, body: parsed };
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    const errBody =
      Number.isFinite(retryAfter) && retryAfter > 0
        ? { ...(parsed && typeof parsed === 'object' ? parsed : {}), retry_after_seconds: retryAfter }
        : parsed;
    throw errorFromResponse(res.status, errBody, opts.what);
  }
}

function retryAfterMs(body: unknown): number | null {
  const s = (body as { retry_after_seconds?: unknown } | null)?.retry_after_seconds;
  return typeof s === 'number' ? Math.min(s, 30) * 1000 : null;
}
