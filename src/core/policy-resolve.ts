import type { Caller } from './caller.js';
import { findRule, matchSubject } from './policy-match.js';
import {
  DEFAULT_ATTESTATION_TTL_SECONDS,
  DEFAULT_REMINDERS,
  type EffectivePolicy,
  type Policy,
  type PolicyApprovers,
} from './policy-types.js';
import type { CreateRequestInput } from './request-schema.js';
import type { ApproverSet } from './types.js';

/**
 * What the policy decides for one request. The first matching rule applies (its unset settings
 * fall back to `defaults`); with no match the defaults apply with outcome `review`.
 *
 * The request can only make things stricter (CONTRACT §3): its approver set is appended (a voter
 * must satisfy every set, so this can only narrow), its `min_approvals` can only raise the
 * policy's, and its `ttl_seconds` is capped by the policy's `max_ttl_seconds`.
 */
export function resolvePolicy(
  policy: Policy | null,
  input: CreateRequestInput,
  client: string,
  caller: Caller | null = null,
): EffectivePolicy {
  const requestMin = input.min_approvals ?? 1;
  const requestTtl = input.ttl_seconds ?? 3600;
  const requestSet = requestApproverSet(input);

  if (policy === null) {
    return {
      outcome: 'review',
      rule: null,
      policyHash: null,
      channel: null,
      approvers: [{ source: 'policy', users: [], groups: [] }, ...requestSet],
      minApprovals: requestMin,
      ttlSeconds: requestTtl,
      denyReasonRequired: true,
      reminderPoints: [...DEFAULT_REMINDERS],
      attestationTtlSeconds: DEFAULT_ATTESTATION_TTL_SECONDS,
      requireVerifiedRequester: false,
    };
  }

  const found = findRule(policy, matchSubject(input, client, caller));
  const rule = found?.rule ?? null;
  const d = policy.defaults;
  const approvers: PolicyApprovers = rule?.approvers ?? d.approvers;
  const policyMin = rule?.minApprovals ?? d.minApprovals;
  const maxTtl = rule?.maxTtlSeconds ?? d.maxTtlSeconds;

  return {
    outcome: rule?.outcome ?? 'review',
    rule: rule?.name ?? null,
    policyHash: policy.hash,
    channel: rule?.channel ?? d.channel,
    approvers: [
      { source: 'policy', users: [...approvers.users], groups: [...approvers.groups] },
      ...requestSet,
    ],
    minApprovals: Math.max(policyMin, requestMin),
    ttlSeconds: Math.min(requestTtl, maxTtl),
    denyReasonRequired: rule?.denyReasonRequired ?? d.denyReasonRequired,
    reminderPoints: [...(rule?.reminders ?? d.reminders)],
    attestationTtlSeconds: rule?.attestationTtlSeconds ?? d.attestationTtlSeconds,
    requireVerifiedRequester: rule?.requireVerifiedRequester ?? d.requireVerifiedRequester,
  };
}

/**
 * How long the attestation of an approval decided now stays valid: the setting of the rule that
 * governed the request (recorded by name on the request), else the defaults; 15 minutes without a
 * policy. A rule since renamed or removed falls back to the defaults.
 */
export function attestationTtlSeconds(policy: Policy | null, ruleName: string | null): number {
  if (policy === null) return DEFAULT_ATTESTATION_TTL_SECONDS;
  const rule = ruleName === null ? undefined : policy.rules.find((r) => r.name === ruleName);
  return rule?.attestationTtlSeconds ?? policy.defaults.attestationTtlSeconds;
}

/** The request's own approver set, when it names at least one user or group (an empty set would not narrow). */
function requestApproverSet(input: CreateRequestInput): ApproverSet[] {
  const users = [...new Set(input.approvers?.users ?? [])];
  const groups = [...new Set(input.approvers?.groups ?? [])];
  if (users.length === 0 && groups.length === 0) return [];
  return [{ source: 'request', users, groups }];
}
