import { type Caller, claimOf } from './caller.js';
import type { Policy, RequesterBinding } from './policy-types.js';
import { SLACK_USER_ID, type ValidationIssue } from './request-schema.js';
import type { Requester } from './types.js';

/**
 * Requester binding (policy `requesters:`): the person accountable for an OIDC caller's request is
 * taken from a claim of its token, not from the body, so self-approval rules hold against a
 * pipeline that names someone else.
 */
export type BindingResult =
  /** No binding applies: a Standard Webhooks caller, or no `requesters:` entry for this client. */
  | { kind: 'none' }
  /** The claim binds to this person; the request's requester is them, whatever the body says. */
  | {
      kind: 'bound';
      requester: Requester;
      claim: string;
      value: string;
      via: 'users' | 'email';
      binding: RequesterBinding;
    }
  /** A binding applies but binds nobody; with `required` the request is refused (403). */
  | { kind: 'unbound'; required: boolean; claim: string; why: string; binding: RequesterBinding };

/** What `{value}` may be in an email pattern: a plain local part, no `+tag`, `@` or spaces. */
const SAFE_LOCAL_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The person the caller's token binds to under `policy`, for a request from client `client`. */
export function bindRequester(policy: Policy | null, client: string, caller: Caller | null): BindingResult {
  if (policy === null || caller === null) return { kind: 'none' };
  const binding = policy.requesters.find((b) => b.client === client);
  if (binding === undefined) return { kind: 'none' };
  const unbound = (why: string): BindingResult => ({
    kind: 'unbound',
    required: binding.required,
    claim: binding.claim,
    why,
    binding,
  });
  const raw = claimOf(caller, binding.claim);
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    return unbound(`the caller's token has no "${binding.claim}" claim`);
  }
  const value = String(raw);
  const person = lookup(binding.users, value);
  if (person !== undefined) {
    const requester: Requester = SLACK_USER_ID.test(person) ? { slack_user_id: person } : { email: person };
    return {
      kind: 'bound',
      requester: { ...requester, name: value },
      claim: binding.claim,
      value,
      via: 'users',
      binding,
    };
  }
  if (binding.email !== null) {
    if (!SAFE_LOCAL_PART.test(value)) {
      return unbound(`${binding.claim} "${value}" cannot form an email address (${binding.email})`);
    }
    const email = binding.email.replace('{value}', value);
    return {
      kind: 'bound',
      requester: { email, name: value },
      claim: binding.claim,
      value,
      via: 'email',
      binding,
    };
  }
  return unbound(`${binding.claim} "${value}" is not listed under users`);
}

/** Exact key first; then a case-insensitive match (GitHub and GitLab logins ignore case), if only one. */
function lookup(users: Record<string, string>, value: string): string | undefined {
  if (Object.hasOwn(users, value)) return users[value];
  const folded = Object.keys(users).filter((k) => k.toLowerCase() === value.toLowerCase());
  return folded.length === 1 ? users[folded[0] as string] : undefined;
}

const normalEmail = (email: string) => {
  const [local = '', domain = ''] = email.toLowerCase().split('@');
  return `${local.split('+')[0]}@${domain}`;
};

/**
 * Puts the bound requester into a request body (parsed JSON, before validation). A body without
 * `requester` gets the bound one; a body whose requester is the same person keeps its `name`; a
 * body naming anyone else, or naming them by an identifier the binding cannot confirm, is refused
 * with an issue for a `400 invalid_request`.
 */
export function applyRequesterBinding(
  body: unknown,
  bound: Extract<BindingResult, { kind: 'bound' }>,
): { ok: true; body: unknown } | { ok: false; issue: ValidationIssue } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: true, body };
  const given = (body as { requester?: unknown }).requester;
  const target = bound.requester;
  if (given === undefined) return { ok: true, body: { ...body, requester: target } };
  const who = target.slack_user_id ?? target.email;
  const refuse = (): { ok: false; issue: ValidationIssue } => ({
    ok: false,
    issue: {
      path: 'requester',
      message:
        `the policy binds this caller's requester to ${who} (${bound.claim} "${bound.value}"); ` +
        `omit requester, or name ${who} exactly`,
    },
  });
  if (given === null || typeof given !== 'object' || Array.isArray(given)) return refuse();
  const g = given as Record<string, unknown>;
  const ids = [g.slack_user_id, g.email].filter((v) => v !== undefined);
  if (ids.length === 0) return refuse();
  if (g.slack_user_id !== undefined && g.slack_user_id !== target.slack_user_id) return refuse();
  if (g.email !== undefined) {
    if (typeof g.email !== 'string' || target.email === undefined) return refuse();
    if (normalEmail(g.email) !== normalEmail(target.email)) return refuse();
  }
  const name = typeof g.name === 'string' ? g.name : target.name;
  return { ok: true, body: { ...body, requester: { ...target, ...(name === undefined ? {} : { name }) } } };
}
