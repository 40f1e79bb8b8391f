import { z } from 'zod';
import { globProblem } from './glob.js';
import { CLAIM_NAME, requestersSchema } from './policy-schema-requesters.js';
import { MAX_ATTESTATION_TTL_SECONDS, MAX_TTL_SECONDS, POLICY_OUTCOMES } from './policy-types.js';
import { SLACK_GROUP_ID, SLACK_USER_ID } from './request-schema.js';
import { RISKS } from './types.js';

/**
 * The zod schema of a policy file (format: docs/policy.md). Every message is written to follow
 * "<file>:<line>: <field>: ", so each one says what a valid value looks like.
 */

/** Public channels start with C, private channels created before 2021 with G. */
export const SLACK_CHANNEL_ID = /^[CG][A-Z0-9]{2,30}$/;
export const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** What an action glob may contain: the action alphabet plus glob syntax. */
const ACTION_GLOB_CHARS = /^[a-z0-9._:\-*?[\]{},!^]+$/;

export const TOP_KEYS = ['version', 'defaults', 'rules', 'requesters'] as const;
export const SETTING_KEYS = [
  'channel',
  'approvers',
  'min_approvals',
  'max_ttl_seconds',
  'deny_reason_required',
  'reminders',
  'attestation_ttl_seconds',
  'require_verified_requester',
] as const;
export const RULE_KEYS = ['name', 'description', 'match', 'outcome', ...SETTING_KEYS] as const;
export const MATCH_KEYS = ['action', 'resource', 'environment', 'risk', 'client', 'claims'] as const;
export const REQUESTER_KEYS = ['client', 'claim', 'users', 'email', 'required'] as const;
export const APPROVER_KEYS = ['users', 'groups'] as const;

export const MESSAGES = {
  version: 'must be 1 (the only policy format so far)',
  channel: 'must be a Slack channel ID such as C0123456789 (starts with C or G; not a #name)',
  user: 'must be a Slack user ID such as U012ABCDEF (starts with U or W)',
  group: 'must be a Slack user group ID such as S012ABCDEF (starts with S)',
  minApprovals: 'must be an integer between 1 and 10',
  maxTtl: `must be a whole number of seconds between 10 and ${MAX_TTL_SECONDS} (30 days)`,
  attestationTtl: `must be a whole number of seconds between 10 and ${MAX_ATTESTATION_TTL_SECONDS} (one day)`,
  boolean: 'must be true or false',
  reminder: 'must be a number between 0 and 1 (exclusive): the fraction of the TTL elapsed',
  reminders: 'must be a list of fractions of the TTL, such as [0.5, 0.9], or [] for no reminders',
  remindersOrder: 'must be in increasing order without repeats',
  name: 'must be 1-64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit',
  description: 'must be text of at most 500 characters',
  outcome: `must be one of ${POLICY_OUTCOMES.join(', ')}`,
  risk: `must be one of ${RISKS.join(', ')}`,
  environment: 'must be an environment name (1-50 characters)',
  client: 'must be a client name from COUNTERSIGN_CLIENTS (1-100 characters)',
  glob: 'must be a glob such as "db.*"',
  actionChars:
    'can never match an action: actions only use a-z, 0-9, ".", "_", ":" and "-" (wildcards: * ? [...] {a,b})',
  emptyList: 'must list at least one value (omit the field to match anything)',
  claimName: 'must be a claim name such as repository or ref (letters, digits, "_", ".", ":", "-")',
  emptyClaims: 'must name at least one claim (omit "claims" to match any caller)',
  mapping: (what: string) => `must be a mapping (${what})`,
  list: (what: string) => `must be a value or a list of ${what}`,
} as const;

/** Accepts `x` or `[x, y]`; always yields a non-empty list. */
function oneOrMany<T extends z.ZodType>(item: T, what: string, max: number) {
  return z.preprocess(
    (value) => (typeof value === 'string' || typeof value === 'number' ? [value] : value),
    z
      .array(item, { error: MESSAGES.list(what) })
      .min(1, { error: MESSAGES.emptyList })
      .max(max, { error: `must list at most ${max} values` }),
  );
}

function idList(item: z.ZodType<string>, what: string, max: number) {
  return z.preprocess(
    (value) => (typeof value === 'string' ? [value] : value),
    z
      .array(item, { error: `must be a list of ${what}` })
      .max(max, { error: `must list at most ${max} ${what}` }),
  );
}

const intBetween = (min: number, max: number, message: string) =>
  z.int({ error: message }).min(min, { error: message }).max(max, { error: message });

const slackId = (pattern: RegExp, message: string) =>
  z.string({ error: message }).regex(pattern, { error: message });

const globSchema = (action: boolean) =>
  z.string({ error: MESSAGES.glob }).superRefine((value, ctx) => {
    const problem = globProblem(value);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    else if (action && !ACTION_GLOB_CHARS.test(value))
      ctx.addIssue({ code: 'custom', message: MESSAGES.actionChars });
  });

const approversSchema = z.strictObject(
  {
    users: idList(slackId(SLACK_USER_ID, MESSAGES.user), 'Slack user IDs', 100).optional(),
    groups: idList(slackId(SLACK_GROUP_ID, MESSAGES.group), 'Slack user group IDs', 20).optional(),
  },
  { error: MESSAGES.mapping('users: [U...], groups: [S...]') },
);

const remindersSchema = z
  .array(
    z
      .number({ error: MESSAGES.reminder })
      .gt(0, { error: MESSAGES.reminder })
      .lt(1, { error: MESSAGES.reminder }),
    {
      error: MESSAGES.reminders,
    },
  )
  .max(10, { error: 'must list at most 10 reminder points' })
  .refine((points) => points.every((p, i) => i === 0 || p > (points[i - 1] as number)), {
    error: MESSAGES.remindersOrder,
  });

const settingsShape = {
  channel: slackId(SLACK_CHANNEL_ID, MESSAGES.channel).optional(),
  approvers: approversSchema.optional(),
  min_approvals: intBetween(1, 10, MESSAGES.minApprovals).optional(),
  max_ttl_seconds: intBetween(10, MAX_TTL_SECONDS, MESSAGES.maxTtl).optional(),
  deny_reason_required: z.boolean({ error: MESSAGES.boolean }).optional(),
  reminders: remindersSchema.optional(),
  attestation_ttl_seconds: intBetween(10, MAX_ATTESTATION_TTL_SECONDS, MESSAGES.attestationTtl).optional(),
  require_verified_requester: z.boolean({ error: MESSAGES.boolean }).optional(),
};

/** `claims: {repository: "acme/*", ref: [refs/heads/main]}`: a number or true/false is matched as its text. */
const claimsMatchSchema = z
  .record(
    z.string().regex(CLAIM_NAME, { error: MESSAGES.claimName }),
    z.preprocess(
      (value) => (typeof value === 'number' || typeof value === 'boolean' ? String(value) : value),
      oneOrMany(globSchema(false), 'claim globs', 50),
    ),
    {
      error: (issue) =>
        issue.code === 'invalid_key'
          ? MESSAGES.claimName
          : MESSAGES.mapping('claim name: glob or [globs], e.g. repository: "acme/*"'),
    },
  )
  .refine((claims) => Object.keys(claims).length > 0, { error: MESSAGES.emptyClaims });

const matchSchema = z.strictObject(
  {
    action: oneOrMany(globSchema(true), 'action globs', 50).optional(),
    resource: oneOrMany(globSchema(false), 'resource globs', 50).optional(),
    environment: oneOrMany(
      z
        .string({ error: MESSAGES.environment })
        .min(1, { error: MESSAGES.environment })
        .max(50, { error: MESSAGES.environment }),
      'environment names',
      50,
    ).optional(),
    risk: oneOrMany(z.enum(RISKS, { error: MESSAGES.risk }), 'risk levels', 4).optional(),
    client: oneOrMany(
      z
        .string({ error: MESSAGES.client })
        .min(1, { error: MESSAGES.client })
        .max(100, { error: MESSAGES.client }),
      'client names',
      50,
    ).optional(),
    claims: claimsMatchSchema.optional(),
  },
  {
    error: MESSAGES.mapping('action, resource, environment, risk, client, claims; {} matches every request'),
  },
);

const ruleSchema = z.strictObject(
  {
    name: z.string({ error: MESSAGES.name }).regex(RULE_NAME, { error: MESSAGES.name }),
    description: z
      .string({ error: MESSAGES.description })
      .max(500, { error: MESSAGES.description })
      .optional(),
    match: matchSchema,
    outcome: z.enum(POLICY_OUTCOMES, { error: MESSAGES.outcome }).optional(),
    ...settingsShape,
  },
  { error: MESSAGES.mapping('name, match, and settings') },
);

export const policyFileSchema = z.strictObject(
  {
    version: z.literal(1, { error: MESSAGES.version }),
    defaults: z.strictObject(settingsShape, { error: MESSAGES.mapping(SETTING_KEYS.join(', ')) }).optional(),
    rules: z
      .array(ruleSchema, { error: 'must be a list of rules (each starting with "- name: ...")' })
      .max(500, { error: 'must list at most 500 rules' })
      .optional(),
    requesters: requestersSchema.optional(),
  },
  { error: MESSAGES.mapping('version, defaults and rules') },
);

export type PolicyFile = z.infer<typeof policyFileSchema>;
export type PolicyFileRule = NonNullable<PolicyFile['rules']>[number];
export type PolicyFileSettings = NonNullable<PolicyFile['defaults']>;

/** The keys a strict object at `path` accepts (for "did you mean" hints on unknown keys). */
export function knownKeysAt(path: readonly PropertyKey[]): readonly string[] {
  const [first, second, third] = path;
  if (path.length === 0) return TOP_KEYS;
  if (first === 'defaults' && path.length === 1) return SETTING_KEYS;
  if (first === 'defaults' && second === 'approvers' && path.length === 2) return APPROVER_KEYS;
  if (first === 'rules' && typeof second === 'number') {
    if (path.length === 2) return RULE_KEYS;
    if (third === 'match' && path.length === 3) return MATCH_KEYS;
    if (third === 'approvers' && path.length === 3) return APPROVER_KEYS;
  }
  if (first === 'requesters' && typeof second === 'number' && path.length === 2) return REQUESTER_KEYS;
  return [];
}
