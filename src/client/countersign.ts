import { CountersignError } from './errors.js';
import { githubActionsTokenProvider, inGitHubActions, type TokenProvider } from './oidc-token.js';
import { decodeSecret, payloadSha256, verifyCallback } from './signing.js';
import { abortedError, isRetryable, newWebhookId, retryDelay, sleep, Transport } from './transport.js';
import type { ApprovalRequestInput, CallbackEvent, DecidedRequest, RequestObject } from './types.js';
import { type AttestationResult, type VerifyApprovalOptions, verifyApproval } from './verify-approval.js';

export interface CountersignOptions {
  /** The server's base URL, e.g. `https://countersign.internal` (COUNTERSIGN_URL). */
  url: string;
  /** This client's `whsec_...` secret (COUNTERSIGN_SECRET). Give this or `oidcToken`, not both. */
  secret?: string;
  /**
   * Authenticate with a CI identity token instead of a secret (`Authorization: Bearer`): the token,
   * or a function that returns a fresh one (called before each call; cache it yourself). Without
   * `secret` or `oidcToken`, inside a GitHub Actions job with `permissions: id-token: write`, the
   * client fetches GitHub ID tokens itself (audience `oidcAudience`).
   */
  oidcToken?: string | TokenProvider;
  /** The audience of the GitHub ID tokens it fetches itself: the server's COUNTERSIGN_OIDC_AUDIENCE (default `countersign`). */
  oidcAudience?: string;
  /** Where to find ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN (default process.env). */
  env?: Record<string, string | undefined>;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Time allowed for one attempt of a call that does not long-poll (default 15 s). */
  requestTimeoutMs?: number;
  /** Extra attempts after a network error, a timeout or a 5xx/429 (default 5). */
  retries?: number;
  /** Delay before the first retry, doubling up to 8 s (default 500 ms). */
  retryBaseMs?: number;
  /** The clock used for signature timestamps (default Date.now). */
  now?: () => number;
}

export interface RequestApprovalOptions {
  /**
   * The `webhook-id` of the POST. Send the same key with the same body again (e.g. a re-run of
   * the same CI job) and you get the same request back instead of a second card. Default: random.
   */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface WaitOptions {
  /** Give up after this long with a CountersignError `wait_timeout` (default: wait until decided). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with the request object after every poll, pending or not. */
  onUpdate?: (request: RequestObject) => void;
  /** Seconds each long poll is held by the server, 1–60 (default 60). */
  pollSeconds?: number;
  /** Give up when the server stays unreachable (network errors, 5xx) this long (default 10 min). */
  unreachableMs?: number;
}

const isObject = (v: unknown): v is RequestObject =>
  typeof v === 'object' && v !== null && typeof (v as RequestObject).id === 'string';

/**
 * A typed client of the Countersign pipeline API. Every call is signed with Standard Webhooks.
 *
 * ```ts
 * const cs = new Countersign({ url: process.env.COUNTERSIGN_URL!, secret: process.env.COUNTERSIGN_SECRET! });
 * const req = await cs.requestApproval({ action: 'db.export', title: '...', requester: { email: '...' } });
 * const outcome = await cs.waitForDecision(req.id);
 * if (outcome.status === 'approved') { ... }
 * ```
 */
export class Countersign {
  readonly url: string;
  private readonly http: Transport;
  private readonly secret: string | null;

  constructor(options: CountersignOptions) {
    if (!options?.url) throw new CountersignError('url is required (COUNTERSIGN_URL)', { code: 'bad_url' });
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new CountersignError(`url "${options.url}" is not an absolute URL`, { code: 'bad_url' });
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') {
      throw new CountersignError(`url "${options.url}" must be http(s)`, { code: 'bad_url' });
    }
    this.url = options.url.replace(/\/+$/, '');
    this.secret = options.secret ?? null;
    this.http = new Transport({
      baseUrl: this.url,
      auth: authOf(options),
      fetch: options.fetch ?? globalThis.fetch,
      now: options.now ?? Date.now,
      newId: newWebhookId,
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      retries: options.retries ?? 5,
      retryBaseMs: options.retryBaseMs ?? 500,
    });
  }

  /**
   * Asks for approval. Retries on network errors and 5xx with the same `webhook-id`, so a retry
   * never posts a second card. Resolves with the new (or, for a repeated key, the existing)
   * request, status `pending` unless it was already decided.
   *
   * `body` is an object (sent as `JSON.stringify(body)`) or JSON text sent byte for byte, so
   * `payload_sha256` is the SHA-256 of exactly that text.
   */
  async requestApproval(
    body: ApprovalRequestInput | string,
    opts: RequestApprovalOptions = {},
  ): Promise<RequestObject> {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await this.http.call('POST', '/api/v1/requests', payload, {
      webhookId: opts.idempotencyKey ?? newWebhookId(),
      signal: opts.signal,
      what: 'creating the request',
    });
    const request = this.object(res.body, 'creating the request');
    if (request.payload_sha256 !== payloadSha256(payload)) {
      throw new CountersignError(
        'creating the request: the server recorded a different payload_sha256 than the body sent',
        { status: res.status, code: 'payload_mismatch', request },
      );
    }
    return request;
  }

  /** The request as it stands now. */
  async get(id: string, opts: { signal?: AbortSignal } = {}): Promise<RequestObject> {
    const res = await this.http.call('GET', this.target(id), undefined, {
      signal: opts.signal,
      what: `reading ${id}`,
    });
    return this.object(res.body, `reading ${id}`);
  }

  /**
   * Withdraws a pending request; resolves with it, status `cancelled`. A request this client has
   * already cancelled resolves too (so a retried cancel is safe). Any other decided request throws
   * `already_decided` with the request in `error.request`.
   */
  async cancel(id: string, reason?: string, opts: { signal?: AbortSignal } = {}): Promise<RequestObject> {
    const what = `cancelling ${id}`;
    try {
      const res = await this.http.call(
        'POST',
        `${this.target(id)}/cancel`,
        JSON.stringify(reason === undefined ? {} : { reason }),
        { webhookId: newWebhookId(), signal: opts.signal, what },
      );
      return this.object(res.body, what);
    } catch (err) {
      if (!(err instanceof CountersignError) || err.code !== 'already_decided') throw err;
      const current = await this.get(id, opts);
      if (current.status === 'cancelled' && current.decided_by === `client:${current.client}`) return current;
      throw new CountersignError(err.message, {
        status: 409,
        code: err.code,
        body: err.body,
        request: current,
      });
    }
  }

  /**
   * Long-polls (`GET ...?wait=60`, held by the server until the decision) until the request is no
   * longer pending, and resolves with it: check `status` (`approved`, `denied`, `expired`,
   * `cancelled`). Network errors and restarts of the server are ridden out.
   */
  async waitForDecision(id: string, opts: WaitOptions = {}): Promise<DecidedRequest> {
    const pollSeconds = Math.min(60, Math.max(1, Math.floor(opts.pollSeconds ?? 60)));
    const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeoutMs;
    const unreachableMs = opts.unreachableMs ?? 600_000;
    let last: RequestObject | null = null;
    let failingSince: number | null = null;
    let failures = 0;
    for (;;) {
      if (opts.signal?.aborted) throw abortedError(opts.signal);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new CountersignError(`${id} is still pending after ${opts.timeoutMs} ms`, {
          code: 'wait_timeout',
          request: last,
        });
      }
      const wait = Math.max(1, Math.min(pollSeconds, Math.ceil(left / 1000)));
      const started = Date.now();
      let request: RequestObject;
      try {
        const res = await this.http.once('GET', `${this.target(id)}?wait=${wait}`, undefined, {
          signal: opts.signal,
          timeoutMs: wait * 1000 + 15_000,
          what: `waiting for ${id}`,
        });
        request = this.object(res.body, `waiting for ${id}`);
      } catch (err) {
        if (!isRetryable(err)) throw err;
        failingSince ??= Date.now();
        if (Date.now() - failingSince > unreachableMs) throw err;
        await sleep(retryDelay(1000, Math.min(failures++, 3)), opts.signal);
        continue;
      }
      failingSince = null;
      failures = 0;
      last = request;
      opts.onUpdate?.(request);
      if (request.status !== 'pending') return request as DecidedRequest;
      // Held for less than half the wait yet still pending (e.g. the server is shutting down): pause.
      if (Date.now() - started < (wait * 1000) / 2) await sleep(500, opts.signal);
    }
  }

  /**
   * Marks an approved request as used (`POST .../consume`), so an executor runs it once: resolves
   * with the request (`consumed_at` set) the first time; throws `already_consumed` (409) after.
   * Retries reuse one `webhook-id`, so a retry of a consume that went through is not a second one.
   */
  async consume(id: string, opts: { signal?: AbortSignal } = {}): Promise<RequestObject> {
    const what = `consuming ${id}`;
    const res = await this.http.call('POST', `${this.target(id)}/consume`, '{}', {
      webhookId: newWebhookId(),
      signal: opts.signal,
      what,
    });
    return this.object(res.body, what);
  }

  /**
   * Verifies an approval's attestation against this server's published keys
   * (`/.well-known/jwks.json`, unless `jwks` is given): signature, expiry and, when given, the
   * payload and action. Give the token, or the request object that carries it.
   */
  async verifyApproval(
    approval: string | RequestObject,
    opts: Partial<VerifyApprovalOptions> = {},
  ): Promise<AttestationResult> {
    const token = typeof approval === 'string' ? approval : approval.attestation;
    if (token === null) {
      const r = approval as RequestObject;
      return {
        ok: false,
        claims: null,
        failures: [{ check: 'format', message: `${r.id} carries no attestation (it is ${r.status})` }],
      };
    }
    return verifyApproval(token, { ...opts, jwks: opts.jwks ?? `${this.url}/.well-known/jwks.json` });
  }

  /** Verifies a callback this client received (raw body, before JSON parsing) and returns the event. */
  verifyCallback(rawBody: string | Buffer, headers: Parameters<typeof verifyCallback>[1]): CallbackEvent {
    if (this.secret === null) {
      throw new CountersignError(
        'verifying callbacks needs the client secret (callbacks are signed with it)',
        {
          code: 'bad_secret_format',
        },
      );
    }
    return verifyCallback(rawBody, headers, this.secret);
  }

  private target(id: string): string {
    return `/api/v1/requests/${encodeURIComponent(id)}`;
  }

  private object(body: unknown, what: string): RequestObject {
    if (!isObject(body)) {
      throw new CountersignError(`${what}: the answer is not a request object`, {
        code: 'bad_response',
        body,
      });
    }
    return body;
  }
}

/** A secret signs each call; an OIDC token (given, or fetched from GitHub Actions) is sent as a bearer. */
function authOf(options: CountersignOptions): { key: Buffer } | { bearer: TokenProvider } {
  const { secret, oidcToken } = options;
  if (secret !== undefined && oidcToken !== undefined) {
    throw new CountersignError('give either secret or oidcToken, not both', { code: 'no_credentials' });
  }
  if (oidcToken !== undefined) {
    if (typeof oidcToken === 'function') return { bearer: oidcToken };
    if (oidcToken.trim() === '') throw new CountersignError('oidcToken is empty', { code: 'no_credentials' });
    return { bearer: () => oidcToken.trim() };
  }
  if (secret !== undefined) return { key: decodeSecret(secret) };
  const env = options.env ?? process.env;
  if (inGitHubActions(env)) {
    return {
      bearer: githubActionsTokenProvider({
        env,
        audience: options.oidcAudience ?? 'countersign',
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    };
  }
  throw new CountersignError(
    'no credentials: give secret (COUNTERSIGN_SECRET) or oidcToken, or run in a GitHub Actions job with ' +
      '"permissions: id-token: write"',
    { code: 'no_credentials' },
  );
}
