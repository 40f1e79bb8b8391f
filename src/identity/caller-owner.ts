import type { Caller } from '../core/caller.js';

/**
 * Who "owns" an OIDC caller's requests. Every workflow of every repository behind one issuer shares
 * that issuer's client name (e.g. `github`), so the client name alone must not decide who may read,
 * cancel or consume a request, nor scope idempotency keys. The owner is the repository by its
 * immutable id (GitHub `repository_id`, GitLab `project_id`), so a later job of the same pipeline
 * (whose `sub` may differ, e.g. with an environment) is still the owner; without such a claim, the
 * exact subject.
 */
export function callerOwner(caller: Caller): string {
  const id = caller.claims.repository_id ?? caller.claims.project_id;
  const key = typeof id === 'string' || typeof id === 'number' ? `repo:${id}` : `sub:${caller.subject}`;
  return `${caller.issuer}#${key}`;
}

/**
 * Whether a call may touch a request: the same client name, and either both signed with secrets
 * (caller null) or both OIDC callers with the same owner.
 */
export function sameOwner(
  request: { client: string; caller: Caller | null },
  call: { client: string; caller: Caller | null },
): boolean {
  if (request.client !== call.client) return false;
  if (request.caller === null || call.caller === null) return request.caller === call.caller;
  return callerOwner(request.caller) === callerOwner(call.caller);
}
