import type { ApiResponse } from './harness.js';

/**
 * Calls the pipeline API as a CI job with an ID token does (CONTRACT §11): `Authorization: Bearer`,
 * no signature; `webhook-id` only when given (the idempotency key).
 */
export async function bearerCall(
  base: string,
  token: string,
  method: 'GET' | 'POST',
  target: string,
  body?: unknown,
  opts: { webhookId?: string } = {},
): Promise<ApiResponse & { headers: Headers }> {
  const res = await fetch(`${base}${target}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(opts.webhookId ? { 'webhook-id': opts.webhookId } : {}),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const parsed = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: res.status, body: parsed, headers: res.headers };
}

/** A deploy request as a workflow sends it (no requester: policy may bind it). */
export function deployBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action: 'deploy.production',
    title: 'Deploy acme/web to production',
    environment: 'production',
    resource: 'acme/web',
    risk: 'high',
    ...over,
  };
}
