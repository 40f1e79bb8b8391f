import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientSecret } from '../config.js';
import type { Caller } from '../core/caller.js';
import { storableText } from '../core/text-checks.js';
import { callerOwner } from '../identity/caller-owner.js';
import { bearerToken, type OidcResult } from '../identity/oidc-verifier.js';
import type { Logger } from '../log.js';
import { readBodyOrRefuse } from './read-body.js';
import type { RefusalAudit } from './refusal-audit.js';
import { refuse, sendError } from './respond.js';
import type { RoutedRequest } from './router.js';
import { checkSignatureHeaders, type SignedAs, signedPayload, verifySignature } from './verify-signature.js';
import type { WebhookIdUses } from './webhook-id-uses.js';

export interface AuthDeps {
  clients: readonly ClientSecret[];
  /** Verifies CI identity tokens (src/identity); its `enabled` is false without COUNTERSIGN_OIDC. */
  oidc: { readonly enabled: boolean; verify(token: string): Promise<OidcResult> } | null;
  /** Records a refused bearer token in the audit trail, at a bounded rate; never rejects. */
  refusals: RefusalAudit;
  /**
   * Each client's recent `webhook-id`s and the call each was used for (a reuse elsewhere is a 409).
   * Kept in this process: with several replicas, a reuse is caught on the replica that saw the
   * first use (the signature's 5-minute window and idempotency still hold everywhere).
   */
  webhookIds: WebhookIdUses;
  now: () => number;
  log: Logger;
}

/** `text` cut to `max` characters (an ellipsis ending it when cut), still well-formed. */
function clipped(text: string, max: number): string {
  return text.length <= max ? text : storableText(`${text.slice(0, max - 1)}…`);
}

/** Who is calling, proven by a Standard Webhooks signature or a CI identity token. */
export interface Authenticated {
  client: string;
  /** Null for a Standard Webhooks caller. */
  caller: Caller | null;
  /** The idempotency key: `webhook-id` (for an OIDC caller, scoped to its owner; made up when not sent). */
  webhookId: string;
  body: Buffer;
}

export const header = (req: IncomingMessage, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export function isJson(req: IncomingMessage): boolean {
  const type = header(req, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/json';
}

export const requireJson = (req: IncomingMessage, res: ServerResponse) =>
  refuse(req, res, 415, 'unsupported_media_type', {
    message: 'send the body as Content-Type: application/json',
  });

/** The body; a non-empty body of a call other than create must be JSON too. Null after answering. */
async function readBodyAs(req: RoutedRequest, res: ServerResponse, as: SignedAs): Promise<Buffer | null> {
  const body = await readBodyOrRefuse(req, res);
  if (body === null) return null;
  if (as === 'target_and_body' && body.length > 0 && !isJson(req)) {
    requireJson(req, res);
    return null;
  }
  return body;
}

/** A `webhook-id` sent beside a bearer token: printable ASCII, as Standard Webhooks ids are. */
const WEBHOOK_ID = /^[\x21-\x7e]{1,200}$/;
/** Seconds a client should wait before retrying when an issuer's keys cannot be had. */
const RETRY_AFTER_SECONDS = 10;

/**
 * Authenticates an API call (CONTRACT §3, §11): `Authorization: Bearer <ID token>` when it carries
 * one, else the Standard Webhooks signature over what a call of kind `as` signs. Everything that
 * needs no body (content type, headers, timestamp, the token) is checked before the body is read.
 * Answers the error itself and returns null on failure.
 */
export async function authenticate(
  deps: AuthDeps,
  req: RoutedRequest,
  res: ServerResponse,
  as: SignedAs,
): Promise<Authenticated | null> {
  if (as === 'body' && !isJson(req)) {
    requireJson(req, res);
    return null;
  }
  const token = bearerToken(header(req, 'authorization'));
  if (token !== null) return authenticateBearer(deps, req, res, as, token);
  const headers = {
    id: header(req, 'webhook-id'),
    timestamp: header(req, 'webhook-timestamp'),
    signature: header(req, 'webhook-signature'),
  };
  const early = checkSignatureHeaders(headers, deps.now());
  if (!early.ok) {
    deps.log.warn('api signature refused', { path: req.url, why: early.why });
    refuse(req, res, 401, 'invalid_signature');
    return null;
  }
  const body = await readBodyAs(req, res, as);
  if (body === null) return null;
  const verified = verifySignature(headers, signedPayload(as, req.url ?? '', body), deps.clients, deps.now());
  if (!verified.ok) {
    deps.log.warn('api signature refused', { path: req.url, why: verified.why });
    sendError(res, 401, 'invalid_signature');
    return null;
  }
  const signedAt = Number(headers.timestamp) * 1000;
  if (!claimWebhookId(deps, req, res, verified.client, verified.webhookId, signedAt)) return null;
  return { client: verified.client, caller: null, webhookId: verified.webhookId, body };
}

/**
 * Records what `id` is used for; answers 409 and false when the client used it for another method
 * or target within 300 s (CONTRACT §3).
 */
function claimWebhookId(
  deps: AuthDeps,
  req: RoutedRequest,
  res: ServerResponse,
  client: string,
  id: string,
  signedAtMs: number | null,
): boolean {
  const call = `${req.method ?? ''} ${req.url ?? ''}`;
  if (deps.webhookIds.claim(client, id, call, deps.now(), signedAtMs)) return true;
  deps.log.warn('api webhook-id reused for another call', { client, path: req.url });
  sendError(res, 409, 'webhook_id_reused', {
    message:
      'this webhook-id was used for another method or request target within the last 300 s; use a new webhook-id for each call',
  });
  return false;
}

async function authenticateBearer(
  deps: AuthDeps,
  req: RoutedRequest,
  res: ServerResponse,
  as: SignedAs,
  token: string,
): Promise<Authenticated | null> {
  const result: OidcResult =
    deps.oidc?.enabled === true
      ? await deps.oidc.verify(token)
      : {
          ok: false,
          status: 401,
          error: 'invalid_token',
          reason: 'unknown_issuer',
          message: 'this server accepts no OIDC tokens (COUNTERSIGN_OIDC is not set); sign the call instead',
          issuer: null,
        };
  if (!result.ok) {
    deps.log.warn('api bearer token refused', { path: req.url, reason: result.reason, why: result.message });
    await deps.refusals.refused({
      reason: result.reason,
      message: clipped(result.message, 500),
      issuer: result.issuer,
      method: clipped(req.method ?? '', 20) || null,
      path: clipped((req.url ?? '').split('?')[0] ?? '', 300),
    });
    const headers: Record<string, string> =
      result.status === 503
        ? { 'retry-after': String(RETRY_AFTER_SECONDS) }
        : { 'www-authenticate': `Bearer error="invalid_token"` };
    refuse(
      req,
      res,
      result.status,
      result.error,
      { reason: result.reason, message: result.message },
      headers,
    );
    return null;
  }
  const sent = header(req, 'webhook-id');
  if (sent !== undefined && !WEBHOOK_ID.test(sent)) {
    refuse(req, res, 400, 'invalid_request', {
      issues: [{ path: 'webhook-id', message: 'must be 1-200 printable ASCII characters without spaces' }],
    });
    return null;
  }
  const body = await readBodyAs(req, res, as);
  if (body === null) return null;
  // Every repository behind one issuer shares its client name: keys are scoped to the caller's owner.
  const key = sent ?? `oidc_${randomBytes(12).toString('hex')}`;
  const webhookId = `${callerOwner(result.caller)} ${key}`;
  if (sent !== undefined && !claimWebhookId(deps, req, res, result.client, webhookId, null)) return null;
  return { client: result.client, caller: result.caller, webhookId, body };
}
