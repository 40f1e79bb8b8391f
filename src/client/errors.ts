import type { RequestObject, ValidationIssue } from './types.js';

/**
 * Codes the client itself produces, beside the server's own (`invalid_signature`,
 * `invalid_request`, `not_found`, `already_decided`, `idempotency_key_reused`, `denied_by_policy`, ...).
 */
export type ClientErrorCode =
  | 'network_error'
  | 'timeout'
  | 'bad_response'
  | 'payload_mismatch'
  | 'wait_timeout'
  | 'aborted'
  | 'bad_secret_format'
  | 'bad_url'
  | 'no_credentials'
  | 'oidc_token_unavailable'
  | 'jwks_unavailable';

/** Every failure of the client: the HTTP status (null when there was no answer), a code and a message. */
export class CountersignError extends Error {
  override readonly name = 'CountersignError';
  /** The HTTP status, or null when the server never answered (network error, timeout, abort). */
  readonly status: number | null;
  /** The server's `error` field, or one of the client's own codes. */
  readonly code: string;
  /** Every validation problem, for a 400 `invalid_request`. */
  readonly issues: ValidationIssue[];
  /** The request as last seen (for `wait_timeout`, `already_decided`, `payload_mismatch`). */
  readonly request: RequestObject | null;
  /** The parsed error body the server sent, if any. */
  readonly body: unknown;

  constructor(
    message: string,
    opts: {
      status?: number | null;
      code: string;
      issues?: ValidationIssue[];
      request?: RequestObject | null;
      body?: unknown;
      cause?: unknown;
    },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.status = opts.status ?? null;
    this.code = opts.code;
    this.issues = opts.issues ?? [];
    this.request = opts.request ?? null;
    this.body = opts.body;
  }
}

/** Turns an error answer from the server into a CountersignError with a message a person can act on. */
export function errorFromResponse(status: number, body: unknown, what: string): CountersignError {
  const b = (body && typeof body === 'object' ? body : {}) as {
    error?: unknown;
    message?: unknown;
    issues?: unknown;
    status?: unknown;
    rule?: unknown;
  };
  const code = typeof b.error === 'string' ? b.error : `http_${status}`;
  const serverMessage = typeof b.message === 'string' ? b.message : null;
  const issues = Array.isArray(b.issues) ? (b.issues as ValidationIssue[]) : [];
  let message: string;
  if (status === 401 && code === 'invalid_token') {
    message =
      `${what}: the server refused the OIDC token (401 invalid_token)${serverMessage ? `: ${serverMessage}` : ''}. ` +
      "Check that the server's COUNTERSIGN_OIDC lists the token's issuer and that the token's audience is its " +
      'COUNTERSIGN_OIDC_AUDIENCE.';
  } else if (status === 409 && code === 'already_consumed') {
    message = `${what}: this approval has already been used (409 already_consumed); ask for a new one`;
  } else if (status === 401) {
    message =
      `${what}: the server refused the signature (401 ${code}): bad secret or clock skew. ` +
      "Check that COUNTERSIGN_SECRET is this client's whsec_ secret as listed in the server's " +
      "COUNTERSIGN_CLIENTS, and that this machine's clock is within 300 s of the server's.";
  } else if (status === 400 && issues.length > 0) {
    message = `${what}: the server refused the request (400 ${code}):\n${issues
      .map((i) => `  - ${i.path}: ${i.message}`)
      .join('\n')}`;
  } else if (status === 404) {
    message = `${what}: no such request for this client (404 ${code})`;
  } else if (status === 409 && typeof b.status === 'string') {
    message = `${what}: the request is already ${b.status} (409 ${code})`;
  } else {
    message = `${what}: the server answered ${status} ${code}${serverMessage ? `: ${serverMessage}` : ''}`;
  }
  return new CountersignError(message, { status, code, issues, body });
}
