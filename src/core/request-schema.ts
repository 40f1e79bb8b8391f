import { z } from 'zod';
import { illFormedStrings } from './text-checks.js';
import { RISKS } from './types.js';

/** Slack user IDs start with U (or W on Enterprise Grid); user group IDs with S. */
export const SLACK_USER_ID = /^[UW][A-Z0-9]{2,30}$/;
export const SLACK_GROUP_ID = /^S[A-Z0-9]{2,30}$/;

const httpUrl = z
  .string()
  .max(2000)
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'https:' || u.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL');

const requesterSchema = z
  .strictObject({
    email: z.email('must be an email address').max(254).optional(),
    slack_user_id: z.string().regex(SLACK_USER_ID, 'must be a Slack user ID such as U012ABCDEF').optional(),
    name: z.string().min(1).max(100).optional(),
  })
  .refine((r) => r.email !== undefined || r.slack_user_id !== undefined, {
    message: 'needs at least one of email or slack_user_id',
  });

/** Invisible characters: format (Cf) such as zero-width spaces and joiners, soft hyphens, direction marks; variation selectors. */
const INVISIBLE = /\p{Cf}|\p{Variation_Selector}|\u034f/u;
const MATCHABLE =
  'must not start or end with a space or hold invisible characters (zero-width, soft hyphen, direction marks): policy rules match it exactly, and the card would not show them';

/**
 * Policy matches `resource` and `environment` exactly: `"prod\u200b"` or `"prod "` would dodge a
 * rule for `prod` while the card shows `prod`. Such values are refused rather than normalised, so
 * what is matched, stored and shown is what was sent.
 */
function matchable(value: string): boolean {
  return value.trim() === value && !INVISIBLE.test(value);
}

/** The body of `POST /api/v1/requests` (CONTRACT §3). Unknown fields are refused so typos do not pass silently. */
export const createRequestSchema = z.strictObject({
  action: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[a-z0-9._:-]+$/, 'may only contain a-z, 0-9, ".", "_", ":" and "-"'),
  title: z.string().min(1).max(150),
  requester: requesterSchema,
  summary: z.string().max(3000).optional(),
  resource: z.string().max(200).refine(matchable, MATCHABLE).optional(),
  environment: z.string().max(50).refine(matchable, MATCHABLE).optional(),
  risk: z.enum(RISKS).default('medium'),
  context: z
    .record(z.string().min(1).max(100), z.union([z.string(), z.number(), z.boolean()]))
    .refine((c) => Object.keys(c).length <= 20, 'may have at most 20 keys')
    .optional(),
  diff: z.string().optional(),
  links: z
    .array(z.strictObject({ text: z.string().min(1).max(200), url: httpUrl }))
    .max(5)
    .optional(),
  approvers: z
    .strictObject({
      users: z
        .array(z.string().regex(SLACK_USER_ID, 'must be a Slack user ID such as U012ABCDEF'))
        .max(100)
        .optional(),
      groups: z
        .array(z.string().regex(SLACK_GROUP_ID, 'must be a Slack user group ID such as S012ABCDEF'))
        .max(20)
        .optional(),
    })
    .optional(),
  min_approvals: z.int().min(1).max(10).default(1),
  ttl_seconds: z.int().min(10).max(2_592_000).default(3600),
  callback_url: httpUrl.optional(),
});

export type CreateRequestInput = z.infer<typeof createRequestSchema>;

export interface ValidationIssue {
  path: string;
  message: string;
}

/** Every problem with a body, as `{path, message}` pairs with dotted paths (`links.0.url`). */
export function validationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.flatMap((issue) => {
    const base = issue.path.map(String);
    // An unknown field is reported at its own path, so the caller sees which key to remove.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...base, key].join('.'), message: 'is not a known field' }));
    }
    return [{ path: base.length > 0 ? base.join('.') : '(body)', message: issue.message }];
  });
}

export type ParseResult = { ok: true; value: CreateRequestInput } | { ok: false; issues: ValidationIssue[] };

/**
 * Parses a create body. Strings that cannot be stored (not well-formed Unicode, or holding NUL:
 * see text-checks.ts) are refused with their field named, wherever they sit, keys included.
 */
export function parseCreateRequest(body: unknown): ParseResult {
  const unusable = illFormedStrings(body);
  const result = createRequestSchema.safeParse(body);
  if (result.success && unusable.length === 0) return { ok: true, value: result.data };
  const named = new Set(unusable.map((i) => i.path));
  const others = result.success ? [] : validationIssues(result.error).filter((i) => !named.has(i.path));
  return { ok: false, issues: [...unusable, ...others] };
}
