import type { Caller } from './caller.js';
import { checkConditions, matchSubject } from './policy-match.js';
import { bindRequester } from './policy-requester.js';
import { resolvePolicy } from './policy-resolve.js';
import type { Policy, PolicyOutcome } from './policy-types.js';
import type { CreateRequestInput } from './request-schema.js';
import type { ApproverSet } from './types.js';

const OUTCOME_WORDS: Record<PolicyOutcome, string> = {
  review: 'review (people are asked to approve in Slack)',
  auto_approve: 'auto_approve (approved at once, without a vote)',
  deny: 'deny (refused at once; no one is asked)',
};

/**
 * A human-readable account of what the policy decides for a request and why, one fact per line
 * (for `countersign policy explain`).
 */
export function explainPolicy(
  policy: Policy | null,
  input: CreateRequestInput,
  client: string,
  caller: Caller | null = null,
): string {
  const subject = matchSubject(input, client, caller);
  const effective = resolvePolicy(policy, input, client, caller);
  const lines: string[] = [];

  const facts = [
    `action ${JSON.stringify(subject.action)}`,
    `resource ${subject.resource === null ? '(none)' : JSON.stringify(subject.resource)}`,
    `environment ${subject.environment === null ? '(none)' : JSON.stringify(subject.environment)}`,
    `risk ${JSON.stringify(subject.risk)}`,
    `client ${JSON.stringify(subject.client)}`,
  ];
  lines.push(`Request: ${facts.join(', ')}`);
  if (caller !== null) lines.push(`Caller: ${describeCaller(caller)}`);

  if (policy === null) {
    lines.push('Policy: none (COUNTERSIGN_POLICY is not set); the built-in defaults apply');
  } else {
    lines.push(`Policy: ${policy.fileName} (sha256 ${policy.hash.slice(0, 12)})`);
    if (policy.rules.length === 0) lines.push('Rules: none');
    else lines.push('Rules, in order (the first match applies):');
    let matched = false;
    policy.rules.forEach((rule, index) => {
      const label = `  ${index + 1}. "${rule.name}" (line ${rule.line})`;
      if (matched) {
        lines.push(`${label}: not checked`);
        return;
      }
      const conditions = checkConditions(rule, subject);
      const failed = conditions.filter((c) => !c.ok);
      if (failed.length === 0) {
        matched = true;
        const why =
          conditions.length === 0 ? 'its match is empty, so it takes every request' : details(conditions);
        lines.push(`${label}: MATCHES: ${why}`);
      } else {
        lines.push(`${label}: no match: ${details(failed)}`);
      }
    });
    if (effective.rule === null) lines.push('No rule matched; the defaults apply.');
  }
  const rule = policy?.rules.find((r) => r.name === effective.rule);
  const channelSource = rule !== undefined && rule.channel !== null ? `rule "${rule.name}"` : 'defaults';

  lines.push(`Outcome: ${OUTCOME_WORDS[effective.outcome]}`);
  const binding = explainBinding(policy, client, caller);
  if (binding !== null) lines.push(binding);
  lines.push(
    effective.channel === null
      ? 'Channel: COUNTERSIGN_DEFAULT_CHANNEL (the policy names none)'
      : `Channel: ${effective.channel} (from ${channelSource})`,
  );
  const attestation = `Attestation: valid ${effective.attestationTtlSeconds} s after the approval`;
  if (effective.outcome === 'auto_approve') lines.push(attestation);
  if (effective.outcome !== 'review') return lines.join('\n');

  lines.push(`Approvers: ${describeApprovers(effective.approvers)}`);
  const requestMin = input.min_approvals ?? 1;
  lines.push(
    `Quorum: ${effective.minApprovals} approval${effective.minApprovals === 1 ? '' : 's'} from distinct people ` +
      `(request asked for ${requestMin}; one deny denies)`,
  );
  const requestTtl = input.ttl_seconds ?? 3600;
  lines.push(
    effective.ttlSeconds < requestTtl
      ? `TTL: ${effective.ttlSeconds} s (request asked for ${requestTtl} s; capped by max_ttl_seconds)`
      : `TTL: ${effective.ttlSeconds} s`,
  );
  lines.push(`Deny reason: ${effective.denyReasonRequired ? 'required' : 'optional'}`);
  if (effective.requireVerifiedRequester) {
    lines.push('Requester: must match a Slack user, or the request is denied when its card is posted');
  }
  lines.push(
    effective.reminderPoints.length === 0
      ? 'Reminders: none'
      : `Reminders: to those who have not voted, at ${effective.reminderPoints.map(percent).join(', ')} of the TTL`,
  );
  lines.push(attestation);
  return lines.join('\n');
}

/** The caller's issuer, subject and the claims people match on most, in one line. */
function describeCaller(caller: Caller): string {
  const shown = ['repository', 'project_path', 'ref', 'workflow', 'actor', 'user_login', 'environment']
    .filter((k) => typeof caller.claims[k] === 'string')
    .map((k) => `${k} ${JSON.stringify(caller.claims[k])}`);
  return [`issuer ${caller.issuer}`, `subject ${JSON.stringify(caller.subject)}`, ...shown].join(', ');
}

function explainBinding(policy: Policy | null, client: string, caller: Caller | null): string | null {
  const result = bindRequester(policy, client, caller);
  switch (result.kind) {
    case 'none':
      return null;
    case 'bound': {
      const who = result.requester.slack_user_id ?? result.requester.email;
      return `Requester: ${who}, bound by requesters (line ${result.binding.line}) from ${result.claim} "${result.value}"; the body cannot name anyone else`;
    }
    case 'unbound':
      return result.required
        ? `Requester: REFUSED (403): ${result.why}, and the binding (line ${result.binding.line}) is required`
        : `Requester: taken from the body: ${result.why} (binding on line ${result.binding.line})`;
  }
}

function details(conditions: { detail: string }[]): string {
  return conditions.map((c) => c.detail).join('; ');
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}

function describeApprovers(sets: ApproverSet[]): string {
  const described = sets.map((set) => {
    const parts: string[] = [];
    if (set.users.length > 0) parts.push(`users ${set.users.join(', ')}`);
    if (set.groups.length > 0) parts.push(`members of ${set.groups.join(', ')}`);
    return `${parts.length === 0 ? 'anyone eligible' : parts.join(' or ')} (${set.source})`;
  });
  const all = described.join('; and also ');
  return `${all}; never the requester, bots, guests or deactivated users`;
}
