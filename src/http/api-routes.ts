import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ConsumeResult, Consumer } from '../approvals/consume.js';
import type { Approvals } from '../approvals/service.js';
import { applyRequesterBinding, bindRequester } from '../core/policy-requester.js';
import { redactText } from '../core/redact.js';
import { toRequestObject } from '../core/request-object.js';
import { parseCreateRequest, type ValidationIssue } from '../core/request-schema.js';
import { textProblem } from '../core/text-checks.js';
import { checkCallbackUrl } from '../egress/callback-url.js';
import { sameOwner } from '../identity/caller-owner.js';
import { type AuthDeps, type Authenticated, authenticate } from './api-auth.js';
import { API_BODY_LIMIT, SMALL_BODY_LIMIT } from './limits.js';
import { refuse, sendError, sendJson } from './respond.js';
import type { Route, RoutedRequest } from './router.js';

export interface ApiDeps extends AuthDeps {
  approvals: Approvals;
  callbackAllow: readonly string[];
  /** Marks an approved request as used, once (src/approvals/consume.ts). */
  consume: (id: string, by: Consumer, now: number) => ConsumeResult;
  /** False once shutdown began: new work is refused with 503. */
  accepting: () => boolean;
}

type Req = RoutedRequest;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] } {
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    return {
      ok: false,
      issues: [{ path: '(body)', message: 'is not valid UTF-8; send JSON text in UTF-8' }],
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return {
      ok: false,
      issues: [{ path: '(body)', message: `is not valid JSON: ${(err as Error).message}` }],
    };
  }
}

function guard(deps: ApiDeps, handler: (req: Req, res: ServerResponse) => Promise<void>) {
  return (req: Req, res: ServerResponse) => {
    if (!deps.accepting()) {
      refuse(req, res, 503, 'shutting_down', { message: 'the server is shutting down; retry shortly' });
      return;
    }
    handler(req, res).catch((err: unknown) => {
      deps.log.error('api handler failed', { path: req.url, error: err });
      refuse(req, res, 500, 'internal_error', { message: 'unexpected server error; it has been logged' });
    });
  };
}

/** The request body with the requester that policy binds an OIDC caller to, or null after answering. */
function bindBody(
  deps: ApiDeps,
  auth: Authenticated,
  body: unknown,
  res: ServerResponse,
): { body: unknown } | null {
  const binding = bindRequester(deps.approvals.policy, auth.client, auth.caller);
  if (binding.kind === 'none') return { body };
  if (binding.kind === 'unbound') {
    if (!binding.required) return { body };
    sendError(res, 403, 'requester_unbound', {
      message: `${binding.why}; policy requesters (client "${auth.client}") requires a bound requester`,
    });
    return null;
  }
  const applied = applyRequesterBinding(body, binding);
  if (applied.ok) return { body: applied.body };
  sendError(res, 400, 'invalid_request', { issues: [applied.issue] });
  return null;
}

async function createRequest(deps: ApiDeps, req: Req, res: ServerResponse) {
  const auth = await authenticate(deps, req, res, 'body');
  if (!auth) return;
  const json = parseJson(auth.body);
  if (!json.ok) return sendError(res, 400, 'invalid_request', { issues: json.issues });
  const bound = bindBody(deps, auth, json.value, res);
  if (bound === null) return;
  const parsed = parseCreateRequest(bound.body);
  if (!parsed.ok) return sendError(res, 400, 'invalid_request', { issues: parsed.issues });
  const url = parsed.value.callback_url;
  if (url !== undefined && auth.caller !== null) {
    // Callbacks are signed with the client's whsec_ secret (CONTRACT §3); an OIDC caller has none.
    return sendError(res, 400, 'invalid_request', {
      issues: [
        {
          path: 'callback_url',
          message:
            'callbacks are signed with a client secret, and a caller proven by an ID token has none: leave callback_url out and wait for the outcome with GET /api/v1/requests/:id?wait=N',
        },
      ],
    });
  }
  const callback = url === undefined ? null : checkCallbackUrl(url, deps.callbackAllow);
  if (callback !== null && !callback.ok) {
    return sendError(res, 400, 'invalid_request', {
      issues: [{ path: 'callback_url', message: callback.message }],
    });
  }
  const sha = createHash('sha256').update(auth.body).digest('hex');
  const result = await deps.approvals.submitGrouped(
    auth.client,
    auth.webhookId,
    sha,
    parsed.value,
    deps.now(),
    auth.caller,
  );
  switch (result.kind) {
    case 'created':
    case 'replayed': {
      // A replay answers only its own caller: the same key from another owner is another request.
      if (result.kind === 'replayed' && !sameOwner(result.request, auth)) return keyReused(res);
      // A request created just now has no votes yet; a replayed one may have some.
      const votes = result.kind === 'created' ? [] : deps.approvals.requests.votes(result.request.id);
      return sendJson(res, result.kind === 'created' ? 201 : 200, toRequestObject(result.request, votes));
    }
    case 'idempotency_conflict':
      return keyReused(res);
    case 'policy_denied':
      return sendError(res, 403, 'denied_by_policy', {
        rule: result.rule,
        message: `policy rule "${result.rule}" does not allow this action`,
      });
    case 'no_channel':
      deps.log.error('no Slack channel for request: set COUNTERSIGN_DEFAULT_CHANNEL or a policy channel');
      return sendError(res, 500, 'no_channel', {
        message:
          'the server has no Slack channel for this request; its operator must set COUNTERSIGN_DEFAULT_CHANNEL',
      });
  }
}

const keyReused = (res: ServerResponse) =>
  sendError(res, 422, 'idempotency_key_reused', {
    message: 'this webhook-id was already used with a different body; use a new webhook-id for a new request',
  });

/** The `:id` of the URL, or null after answering 400 when it is not text that can be looked up. */
function requestId(req: Req, res: ServerResponse): string | null {
  const id = req.params.id ?? '';
  const problem = textProblem(id);
  if (problem === null) return id;
  sendError(res, 400, 'invalid_request', { issues: [{ path: 'id', message: problem }] });
  return null;
}

async function getRequest(deps: ApiDeps, req: Req, res: ServerResponse) {
  const auth = await authenticate(deps, req, res, 'target');
  if (!auth) return;
  const id = requestId(req, res);
  if (id === null) return;
  const waitParam = new URL(req.url ?? '/', 'http://x').searchParams.get('wait');
  let waitSeconds = 0;
  if (waitParam !== null) {
    waitSeconds = Number(waitParam);
    if (!/^\d+$/.test(waitParam) || waitSeconds < 1 || waitSeconds > 60) {
      return sendError(res, 400, 'invalid_request', {
        issues: [{ path: 'wait', message: 'must be a whole number of seconds from 1 to 60' }],
      });
    }
  }
  let request = deps.approvals.requests.get(id);
  if (!request || !sameOwner(request, auth)) return sendError(res, 404, 'not_found');
  if (waitSeconds > 0 && request.status === 'pending') {
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    await deps.approvals.decisions.wait(id, waitSeconds * 1000, gone.signal);
    if (gone.signal.aborted) return;
    request = deps.approvals.requests.get(id) ?? request;
  }
  sendJson(res, 200, toRequestObject(request, deps.approvals.requests.votes(id)));
}

async function cancelRequest(deps: ApiDeps, req: Req, res: ServerResponse) {
  const auth = await authenticate(deps, req, res, 'target_and_body');
  if (!auth) return;
  let reason: string | null = null;
  if (auth.body.length > 0) {
    const json = parseJson(auth.body);
    if (!json.ok) return sendError(res, 400, 'invalid_request', { issues: json.issues });
    const v = json.value as { reason?: unknown } | null;
    const extra = v && typeof v === 'object' ? Object.keys(v).filter((k) => k !== 'reason') : [];
    if (!v || typeof v !== 'object' || Array.isArray(v) || extra.length > 0) {
      return sendError(res, 400, 'invalid_request', {
        issues: [{ path: extra[0] ?? '(body)', message: 'the body may only be {"reason": "..."}' }],
      });
    }
    if (v.reason !== undefined && (typeof v.reason !== 'string' || v.reason.length > 500)) {
      return sendError(res, 400, 'invalid_request', {
        issues: [{ path: 'reason', message: 'must be a string of at most 500 characters' }],
      });
    }
    const problem = typeof v.reason === 'string' ? textProblem(v.reason) : null;
    if (problem)
      return sendError(res, 400, 'invalid_request', { issues: [{ path: 'reason', message: problem }] });
    // Masked where it arrives, before it is stored, posted, sent back or audited.
    reason = typeof v.reason === 'string' && v.reason.trim() !== '' ? redactText(v.reason.trim()).text : null;
  }
  const id = requestId(req, res);
  if (id === null) return;
  const target = deps.approvals.requests.get(id);
  if (!target || !sameOwner(target, auth)) return sendError(res, 404, 'not_found');
  const result = deps.approvals.cancel(id, `client:${auth.client}`, reason, deps.now(), auth.client);
  if (result.kind === 'not_found') return sendError(res, 404, 'not_found');
  if (result.kind === 'already_decided')
    return sendError(res, 409, 'already_decided', { status: result.status });
  sendJson(res, 200, toRequestObject(result.request, deps.approvals.requests.votes(id)));
}

async function consumeRequest(deps: ApiDeps, req: Req, res: ServerResponse) {
  const auth = await authenticate(deps, req, res, 'target_and_body');
  if (!auth) return;
  const id = requestId(req, res);
  if (id === null) return;
  const result = deps.consume(id, auth, deps.now());
  switch (result.kind) {
    case 'consumed':
      return sendJson(res, 200, toRequestObject(result.request, deps.approvals.requests.votes(id)));
    case 'not_found':
      return sendError(res, 404, 'not_found');
    case 'already_consumed':
      return sendError(res, 409, 'already_consumed', {
        consumed_at: new Date(result.consumedAt).toISOString(),
        message: 'this approval was already used; ask for a new one to run the action again',
      });
    case 'not_approved':
      return sendError(res, 409, 'not_approved', {
        status: result.status,
        message: `the request is ${result.status}: only an approved request can be consumed`,
      });
    case 'approval_expired':
      return sendError(res, 409, 'approval_expired', {
        expired_at: new Date(result.expiredAt).toISOString(),
        message: 'the approval is no longer valid (its attestation expired); ask for a new one',
      });
  }
}

/** The pipeline API and `/healthz`, mounted on the product's HTTP server (src/http/listener.ts). */
export function apiRoutes(deps: ApiDeps): Route[] {
  return [
    {
      path: '/api/v1/requests',
      method: 'POST',
      bodyLimit: API_BODY_LIMIT,
      handler: guard(deps, (q, s) => createRequest(deps, q, s)),
    },
    {
      path: '/api/v1/requests/:id',
      method: 'GET',
      bodyLimit: 0,
      handler: guard(deps, (q, s) => getRequest(deps, q, s)),
    },
    {
      path: '/api/v1/requests/:id/cancel',
      method: 'POST',
      bodyLimit: SMALL_BODY_LIMIT,
      handler: guard(deps, (q, s) => cancelRequest(deps, q, s)),
    },
    {
      path: '/api/v1/requests/:id/consume',
      method: 'POST',
      bodyLimit: SMALL_BODY_LIMIT,
      handler: guard(deps, (q, s) => consumeRequest(deps, q, s)),
    },
    {
      path: '/healthz',
      method: 'GET',
      bodyLimit: 0,
      handler: (_req, res) =>
        deps.accepting()
          ? sendJson(res, 200, { ok: true })
          : sendJson(res, 503, { ok: false, error: 'shutting_down' }),
    },
  ];
}
