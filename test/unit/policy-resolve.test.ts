import { describe, expect, it } from 'vitest';
import {
  DEFAULT_REMINDERS,
  type EffectivePolicy,
  explainPolicy,
  type Policy,
  parsePolicy,
  resolvePolicy,
} from '../../src/core/policy.js';
import { type CreateRequestInput, createRequestSchema } from '../../src/core/request-schema.js';

function policy(...lines: string[]): Policy {
  const result = parsePolicy(`version: 1\n${lines.join('\n')}\n`, 'policy.yml');
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.policy;
}

function request(fields: Record<string, unknown> = {}): CreateRequestInput {
  return createRequestSchema.parse({
    action: 'db.export',
    title: 'Export orders',
    requester: { email: 'dev@example.com' },
    ...fields,
  });
}

const PROD_EXPORT = policy(
  'defaults:',
  '  channel: C0DEFAULT1',
  '  approvers: { users: [U0LEAD0001], groups: [S0ENG00001] }',
  '  min_approvals: 1',
  '  max_ttl_seconds: 86400',
  '  deny_reason_required: false',
  '  reminders: [0.8]',
  'rules:',
  '  - name: no-prod-drop',
  '    match: { action: "db.drop*", environment: production }',
  '    outcome: deny',
  '  - name: prod-db-export',
  '    match: { action: "db.export*", environment: production }',
  '    channel: C0PRODDATA1',
  '    approvers: { groups: [S0DBA00001] }',
  '    min_approvals: 2',
  '    max_ttl_seconds: 3600',
  '    deny_reason_required: true',
  '  - name: staging-deploy',
  '    match: { action: "deploy.*", environment: staging, risk: low }',
  '    outcome: auto_approve',
  '    channel: C0DEPLOYS01',
);

describe('resolvePolicy', () => {
  it('applies the matched rule, inheriting what it does not set from defaults', () => {
    const effective = resolvePolicy(PROD_EXPORT, request({ environment: 'production' }), 'ci');
    expect(effective).toEqual<EffectivePolicy>({
      outcome: 'review',
      rule: 'prod-db-export',
      policyHash: PROD_EXPORT.hash,
      channel: 'C0PRODDATA1',
      approvers: [{ source: 'policy', users: [], groups: ['S0DBA00001'] }],
      minApprovals: 2,
      ttlSeconds: 3600,
      denyReasonRequired: true,
      reminderPoints: [0.8],
      attestationTtlSeconds: 900,
      requireVerifiedRequester: false,
    });
  });

  it('applies the defaults when no rule matches', () => {
    const effective = resolvePolicy(
      PROD_EXPORT,
      request({ action: 'iam.role.attach', ttl_seconds: 600 }),
      'ci',
    );
    expect(effective).toEqual<EffectivePolicy>({
      outcome: 'review',
      rule: null,
      policyHash: PROD_EXPORT.hash,
      channel: 'C0DEFAULT1',
      approvers: [{ source: 'policy', users: ['U0LEAD0001'], groups: ['S0ENG00001'] }],
      minApprovals: 1,
      ttlSeconds: 600,
      denyReasonRequired: false,
      reminderPoints: [0.8],
      attestationTtlSeconds: 900,
      requireVerifiedRequester: false,
    });
  });

  it('returns deny and auto_approve outcomes', () => {
    expect(
      resolvePolicy(PROD_EXPORT, request({ action: 'db.drop_table', environment: 'production' }), 'ci'),
    ).toMatchObject({ outcome: 'deny', rule: 'no-prod-drop' });
    expect(
      resolvePolicy(
        PROD_EXPORT,
        request({ action: 'deploy.web', environment: 'staging', risk: 'low' }),
        'ci',
      ),
    ).toMatchObject({ outcome: 'auto_approve', rule: 'staging-deploy', channel: 'C0DEPLOYS01' });
    // The same deploy at medium risk falls through to the defaults and is reviewed.
    expect(
      resolvePolicy(
        PROD_EXPORT,
        request({ action: 'deploy.web', environment: 'staging', risk: 'medium' }),
        'ci',
      ),
    ).toMatchObject({ outcome: 'review', rule: null });
  });

  describe('a request can only make things stricter', () => {
    const prod = { environment: 'production' };

    it('cannot lower min_approvals, but can raise it', () => {
      expect(resolvePolicy(PROD_EXPORT, request({ ...prod, min_approvals: 1 }), 'ci').minApprovals).toBe(2);
      expect(resolvePolicy(PROD_EXPORT, request({ ...prod, min_approvals: 3 }), 'ci').minApprovals).toBe(3);
    });

    it('cannot raise the TTL above max_ttl_seconds, but can shorten it', () => {
      expect(resolvePolicy(PROD_EXPORT, request({ ...prod, ttl_seconds: 86_400 }), 'ci').ttlSeconds).toBe(
        3600,
      );
      expect(resolvePolicy(PROD_EXPORT, request({ ...prod, ttl_seconds: 60 }), 'ci').ttlSeconds).toBe(60);
    });

    it('cannot widen approvers: its set is added after the policy set, and a voter must satisfy both', () => {
      const effective = resolvePolicy(
        PROD_EXPORT,
        request({ ...prod, approvers: { users: ['U0ALICE001', 'U0ALICE001'], groups: ['S0EVERYONE'] } }),
        'ci',
      );
      expect(effective.approvers).toEqual([
        { source: 'policy', users: [], groups: ['S0DBA00001'] },
        { source: 'request', users: ['U0ALICE001'], groups: ['S0EVERYONE'] },
      ]);
    });

    it('adds no set when the request names no approvers', () => {
      for (const approvers of [undefined, {}, { users: [] }, { users: [], groups: [] }]) {
        const effective = resolvePolicy(PROD_EXPORT, request({ ...prod, approvers }), 'ci');
        expect(effective.approvers).toEqual([{ source: 'policy', users: [], groups: ['S0DBA00001'] }]);
      }
    });
  });

  it('requires a verified requester per rule, inheriting the default', () => {
    const p = policy(
      'defaults:',
      '  channel: C0DEFAULT1',
      '  require_verified_requester: true',
      'rules:',
      '  - name: lenient',
      '    match: { environment: dev }',
      '    require_verified_requester: false',
      '  - name: strict-by-default',
      '    match: { environment: production }',
    );
    expect(resolvePolicy(p, request({ environment: 'dev' }), 'ci').requireVerifiedRequester).toBe(false);
    expect(resolvePolicy(p, request({ environment: 'production' }), 'ci').requireVerifiedRequester).toBe(
      true,
    );
    expect(resolvePolicy(p, request({ environment: 'qa' }), 'ci').requireVerifiedRequester).toBe(true);
  });

  it('uses built-in defaults when there is no policy file', () => {
    expect(resolvePolicy(null, request(), 'ci')).toEqual<EffectivePolicy>({
      outcome: 'review',
      rule: null,
      policyHash: null,
      channel: null,
      approvers: [{ source: 'policy', users: [], groups: [] }],
      minApprovals: 1,
      ttlSeconds: 3600,
      denyReasonRequired: true,
      reminderPoints: DEFAULT_REMINDERS,
      attestationTtlSeconds: 900,
      requireVerifiedRequester: false,
    });
    const narrowed = resolvePolicy(
      null,
      request({ approvers: { groups: ['S0DBA00001'] }, min_approvals: 3, ttl_seconds: 120 }),
      'ci',
    );
    expect(narrowed).toMatchObject({
      approvers: [
        { source: 'policy', users: [], groups: [] },
        { source: 'request', users: [], groups: ['S0DBA00001'] },
      ],
      minApprovals: 3,
      ttlSeconds: 120,
    });
  });

  it('returns fresh arrays that callers may change without touching the policy', () => {
    const effective = resolvePolicy(PROD_EXPORT, request({ environment: 'production' }), 'ci');
    effective.reminderPoints.push(0.99);
    effective.approvers[0]?.groups.push('S0INTRUDER');
    expect(resolvePolicy(PROD_EXPORT, request({ environment: 'production' }), 'ci')).toMatchObject({
      reminderPoints: [0.8],
      approvers: [{ groups: ['S0DBA00001'] }],
    });
    const none = resolvePolicy(null, request(), 'ci');
    none.reminderPoints.push(0.99);
    expect(DEFAULT_REMINDERS).toEqual([0.5, 0.9]);
  });
});

describe('explainPolicy', () => {
  it('says which rule matched and why, and what follows from it', () => {
    const text = explainPolicy(
      PROD_EXPORT,
      request({ environment: 'production', ttl_seconds: 7200, approvers: { users: ['U0ALICE001'] } }),
      'ci',
    );
    expect(text.split('\n')).toEqual([
      'Request: action "db.export", resource (none), environment "production", risk "medium", client "ci"',
      `Policy: policy.yml (sha256 ${PROD_EXPORT.hash.slice(0, 12)})`,
      'Rules, in order (the first match applies):',
      '  1. "no-prod-drop" (line 10): no match: action "db.export" matches none of "db.drop*"',
      '  2. "prod-db-export" (line 13): MATCHES: action "db.export" matches "db.export*"; environment "production" is "production"',
      '  3. "staging-deploy" (line 20): not checked',
      'Outcome: review (people are asked to approve in Slack)',
      'Channel: C0PRODDATA1 (from rule "prod-db-export")',
      'Approvers: members of S0DBA00001 (policy); and also users U0ALICE001 (request); never the requester, bots, guests or deactivated users',
      'Quorum: 2 approvals from distinct people (request asked for 1; one deny denies)',
      'TTL: 3600 s (request asked for 7200 s; capped by max_ttl_seconds)',
      'Deny reason: required',
      'Reminders: to those who have not voted, at 80% of the TTL',
      'Attestation: valid 900 s after the approval',
    ]);
  });

  it('says when the defaults apply', () => {
    const text = explainPolicy(PROD_EXPORT, request({ action: 'iam.role.attach' }), 'ci');
    expect(text).toContain('No rule matched; the defaults apply.');
    expect(text).toContain(
      '  3. "staging-deploy" (line 20): no match: action "iam.role.attach" matches none of "deploy.*"; environment: the request names none, the rule wants "staging"; risk "medium" is not one of "low"',
    );
    expect(text).toContain('Channel: C0DEFAULT1 (from defaults)');
    expect(text).toContain('Approvers: users U0LEAD0001 or members of S0ENG00001 (policy)');
    expect(text).toContain('Deny reason: optional');
  });

  it('explains auto_approve and deny outcomes without quorum details', () => {
    const text = explainPolicy(
      PROD_EXPORT,
      request({ action: 'deploy.web', environment: 'staging', risk: 'low' }),
      'ci',
    );
    expect(text).toContain('Outcome: auto_approve (approved at once, without a vote)');
    expect(text).toContain('Channel: C0DEPLOYS01 (from rule "staging-deploy")');
    expect(text).not.toContain('Quorum');
    const denied = explainPolicy(
      PROD_EXPORT,
      request({ action: 'db.drop', environment: 'production' }),
      'ci',
    );
    expect(denied).toContain('Outcome: deny (refused at once; no one is asked)');
  });

  it('explains an empty match and the absence of a policy', () => {
    const catchAll = policy('rules:', '  - name: everything', '    match: {}');
    expect(explainPolicy(catchAll, request(), 'ci')).toContain(
      '1. "everything" (line 3): MATCHES: its match is empty, so it takes every request',
    );
    const none = explainPolicy(null, request(), 'ci');
    expect(none).toContain('Policy: none (COUNTERSIGN_POLICY is not set); the built-in defaults apply');
    expect(none).toContain('Channel: COUNTERSIGN_DEFAULT_CHANNEL (the policy names none)');
    expect(none).toContain('Approvers: anyone eligible (policy)');
    expect(none).toContain('Reminders: to those who have not voted, at 50%, 90% of the TTL');
  });
});
