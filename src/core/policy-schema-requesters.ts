import { z } from 'zod';
import { SLACK_USER_ID } from './request-schema.js';

/**
 * The `requesters:` section of a policy file: who the requester of an OIDC caller's request is,
 * from a claim of its token (format: docs/policy.md, "Requester binding").
 */

/** A token claim's name, e.g. `repository`, `job_workflow_ref`, `user_login`. */
export const CLAIM_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
/** A client name as COUNTERSIGN_OIDC spells it. */
const CLIENT_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const MESSAGES = {
  client: 'must be the name of a COUNTERSIGN_OIDC entry, such as github (letters, digits, ".", "_", "-")',
  claim: 'must be a claim name such as actor or user_login (letters, digits, "_", ".", ":", "-")',
  person: 'must be a Slack user ID such as U012ABCDEF or an email address',
  email:
    'must be an email address with {value} once before the "@", such as "{value}@example.com"; {value} is the claim\'s value',
  required: 'must be true or false',
  needsTarget: 'needs "users" (a map of claim values to people), "email" (a pattern), or both',
  duplicate: (client: string, first: number) =>
    `a binding for client "${client}" is already given by requesters[${first}]; keep one per client`,
} as const;

/** True for `{value}@example.com`: one placeholder, in the local part, and an email once filled in. */
export function isEmailPattern(pattern: string): boolean {
  const parts = pattern.split('{value}');
  if (parts.length !== 2) return false;
  const at = pattern.indexOf('@');
  return at > pattern.indexOf('{value}') && EMAIL.test(pattern.replace('{value}', 'x'));
}

const personSchema = z
  .string({ error: MESSAGES.person })
  .refine((v) => SLACK_USER_ID.test(v) || (v.length <= 254 && EMAIL.test(v)), { error: MESSAGES.person });

const bindingSchema = z
  .strictObject(
    {
      client: z.string({ error: MESSAGES.client }).regex(CLIENT_NAME, { error: MESSAGES.client }),
      claim: z.string({ error: MESSAGES.claim }).regex(CLAIM_NAME, { error: MESSAGES.claim }),
      users: z
        .record(z.string().min(1).max(200), personSchema, {
          error: 'must be a mapping of claim values to Slack user IDs or emails, e.g. octocat: U012ABCDEF',
        })
        .optional(),
      email: z
        .string({ error: MESSAGES.email })
        .max(254, { error: MESSAGES.email })
        .refine(isEmailPattern, { error: MESSAGES.email })
        .optional(),
      required: z.boolean({ error: MESSAGES.required }).optional(),
    },
    { error: 'must be a mapping (client, claim, users, email, required)' },
  )
  .refine((b) => b.users !== undefined || b.email !== undefined, { error: MESSAGES.needsTarget });

export const requestersSchema = z
  .array(bindingSchema, { error: 'must be a list of bindings (each starting with "- client: ...")' })
  .max(50, { error: 'must list at most 50 bindings' })
  .superRefine((bindings, ctx) => {
    const first = new Map<string, number>();
    bindings.forEach((b, i) => {
      const seen = first.get(b.client);
      if (seen === undefined) first.set(b.client, i);
      else ctx.addIssue({ code: 'custom', path: [i, 'client'], message: MESSAGES.duplicate(b.client, seen) });
    });
  });
