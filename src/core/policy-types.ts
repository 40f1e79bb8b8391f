import type { ApproverSet, Risk } from './types.js';

/** What happens to a request that a rule (or the defaults) governs. */
export const POLICY_OUTCOMES = ['review', 'auto_approve', 'deny'] as const;
export type PolicyOutcome = (typeof POLICY_OUTCOMES)[number];

/** Reminder points used when neither the policy nor its defaults name any (fractions of the TTL elapsed). */
export const DEFAULT_REMINDERS = [0.5, 0.9];

/** The CONTRACT's upper bound on `ttl_seconds`; also the default `max_ttl_seconds` (no cap). */
export const MAX_TTL_SECONDS = 2_592_000;

/** How long an approval's attestation stays valid after the decision, unless policy says otherwise (15 min). */
export const DEFAULT_ATTESTATION_TTL_SECONDS = 900;
/** The longest `attestation_ttl_seconds` a policy may set (one day): an approval is permission to act now. */
export const MAX_ATTESTATION_TTL_SECONDS = 86_400;

export interface PolicyApprovers {
  users: string[];
  groups: string[];
}

/** Settings that apply when no rule matches, and that a matching rule inherits where it is silent. */
export interface PolicyDefaults {
  /** null: COUNTERSIGN_DEFAULT_CHANNEL. */
  channel: string | null;
  approvers: PolicyApprovers;
  minApprovals: number;
  maxTtlSeconds: number;
  denyReasonRequired: boolean;
  reminders: number[];
  /** Seconds an approval's attestation stays valid after the decision. */
  attestationTtlSeconds: number;
  /** Deny at once a request whose requester matches no Slack user (checked when its card is posted). */
  requireVerifiedRequester: boolean;
}

/** A rule's conditions; null means the field was omitted and matches anything. */
export interface PolicyMatch {
  /** Globs; the request's action must match at least one. */
  action: string[] | null;
  /** Globs; the request must name a resource that matches at least one. */
  resource: string[] | null;
  /** Exact values; the request must name one of them. */
  environment: string[] | null;
  risk: Risk[] | null;
  client: string[] | null;
  /** Claim name → globs; the request's OIDC caller must carry each claim, matching one of its globs. */
  claims: Record<string, string[]> | null;
}

export interface PolicyRule {
  name: string;
  description: string | null;
  /** 1-based line of the rule in the policy file, for explanations. */
  line: number;
  match: PolicyMatch;
  outcome: PolicyOutcome;
  /** The settings below are null when the rule does not set them; the defaults then apply. */
  channel: string | null;
  approvers: PolicyApprovers | null;
  minApprovals: number | null;
  maxTtlSeconds: number | null;
  denyReasonRequired: boolean | null;
  reminders: number[] | null;
  attestationTtlSeconds: number | null;
  requireVerifiedRequester: boolean | null;
}

/**
 * Binds the requester of an OIDC caller's request to a person: the value of `claim` in the token
 * (GitHub `actor`, GitLab `user_login`) looked up in `users`, else put into the `email` pattern.
 */
export interface RequesterBinding {
  /** The COUNTERSIGN_OIDC entry name (the caller's client name) this binding applies to. */
  client: string;
  claim: string;
  /** Claim value → a Slack user ID (`U...`/`W...`) or an email address. */
  users: Record<string, string>;
  /** E.g. `{value}@example.com`; null: only `users` bind. */
  email: string | null;
  /** Refuse a caller whose claim binds to nobody (instead of keeping the body's requester). */
  required: boolean;
  /** 1-based line in the policy file, for explanations. */
  line: number;
}

export interface Policy {
  /** SHA-256 (hex) of the policy file's text, recorded with every request it governs. */
  hash: string;
  fileName: string;
  defaults: PolicyDefaults;
  /** In file order; the first rule that matches applies. */
  rules: PolicyRule[];
  /** At most one per client name. */
  requesters: RequesterBinding[];
}

export type ParsePolicyResult = { ok: true; policy: Policy } | { ok: false; errors: string[] };

/** What the policy decides for one request, after the request's own (narrowing-only) settings. */
export interface EffectivePolicy {
  outcome: PolicyOutcome;
  /** The matched rule's name; null when the defaults applied (or there is no policy). */
  rule: string | null;
  /** null when there is no policy file. */
  policyHash: string | null;
  /** null: use COUNTERSIGN_DEFAULT_CHANNEL. */
  channel: string | null;
  /** The policy's set first (source 'policy'), then the request's own set (source 'request') if it named approvers. */
  approvers: ApproverSet[];
  /** max(policy, request). */
  minApprovals: number;
  /** min(request ttl, policy max_ttl_seconds). */
  ttlSeconds: number;
  denyReasonRequired: boolean;
  reminderPoints: number[];
  /** Seconds the attestation of an approval stays valid after the decision. */
  attestationTtlSeconds: number;
  /** Whether a requester who matches no Slack user gets the request denied (see PolicyDefaults). */
  requireVerifiedRequester: boolean;
}
