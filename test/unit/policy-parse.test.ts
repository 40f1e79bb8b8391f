import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REMINDERS, MAX_TTL_SECONDS, type Policy, parsePolicy } from '../../src/core/policy.js';

const FILE = 'policy.yml';

function ok(text: string): Policy {
  const result = parsePolicy(text, FILE);
  if (!result.ok) throw new Error(`expected a valid policy, got:\n${result.errors.join('\n')}`);
  return result.policy;
}

function errors(text: string): string[] {
  const result = parsePolicy(text, FILE);
  if (result.ok) throw new Error('expected errors, got a valid policy');
  return result.errors;
}

/** The policy text with `lines` joined; line numbers in assertions count from 1. */
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

describe('parsePolicy: valid files', () => {
  it('parses the example from the brief, with defaults filled in', () => {
    const policy = ok(
      yaml(
        'version: 1',
        'defaults:',
        '  channel: C0123456789',
        '  approvers: { users: [], groups: [] }',
        '  min_approvals: 1',
        '  max_ttl_seconds: 86400',
        '  deny_reason_required: true',
        '  reminders: [0.5, 0.9]',
        'rules:',
        '  - name: prod-db-export',
        '    match: { action: "db.export*", environment: [production], risk: [high, critical], resource: "*", client: [ci] }',
        '    channel: C0PRODDATA1',
        '    approvers: { groups: [S0DBA00001] }',
        '    min_approvals: 2',
        '    max_ttl_seconds: 3600',
        '  - name: staging-deploy',
        '    match: { action: "deploy.*", environment: staging, risk: low }',
        '    outcome: auto_approve',
        '  - name: no-prod-drop',
        '    match: { action: "db.drop*", environment: production }',
        '    outcome: deny',
      ),
    );
    expect(policy.fileName).toBe(FILE);
    expect(policy.defaults).toEqual({
      channel: 'C0123456789',
      approvers: { users: [], groups: [] },
      minApprovals: 1,
      maxTtlSeconds: 86400,
      denyReasonRequired: true,
      reminders: [0.5, 0.9],
      attestationTtlSeconds: 900,
      requireVerifiedRequester: false,
    });
    expect(policy.rules.map((r) => [r.name, r.line, r.outcome])).toEqual([
      ['prod-db-export', 10, 'review'],
      ['staging-deploy', 16, 'auto_approve'],
      ['no-prod-drop', 19, 'deny'],
    ]);
    expect(policy.rules[0]).toMatchObject({
      match: {
        action: ['db.export*'],
        resource: ['*'],
        environment: ['production'],
        risk: ['high', 'critical'],
        client: ['ci'],
      },
      channel: 'C0PRODDATA1',
      approvers: { users: [], groups: ['S0DBA00001'] },
      minApprovals: 2,
      maxTtlSeconds: 3600,
      denyReasonRequired: null,
      reminders: null,
      requireVerifiedRequester: null,
    });
    // A single value is read as a one-item list; omitted fields are null (match anything / inherit).
    expect(policy.rules[1]?.match).toEqual({
      action: ['deploy.*'],
      resource: null,
      environment: ['staging'],
      risk: ['low'],
      client: null,
      claims: null,
    });
  });

  it('fills every default when the file only has a version', () => {
    const policy = ok('version: 1\n');
    expect(policy.rules).toEqual([]);
    expect(policy.defaults).toEqual({
      channel: null,
      approvers: { users: [], groups: [] },
      minApprovals: 1,
      maxTtlSeconds: MAX_TTL_SECONDS,
      denyReasonRequired: true,
      reminders: DEFAULT_REMINDERS,
      attestationTtlSeconds: 900,
      requireVerifiedRequester: false,
    });
  });

  it('hashes the exact file text with SHA-256', () => {
    const a = ok('version: 1\n');
    const b = ok('version: 1\n# a comment\n');
    expect(a.hash).toBe(createHash('sha256').update('version: 1\n').digest('hex'));
    expect(b.hash).not.toBe(a.hash);
    expect(ok('version: 1\n').hash).toBe(a.hash);
  });

  it('accepts an empty reminders list, W user IDs and G channel IDs', () => {
    const policy = ok(
      yaml(
        'version: 1',
        'defaults:',
        '  channel: G0PRIVATE1',
        '  approvers: { users: [W0ENTERPRISE1] }',
        '  reminders: []',
      ),
    );
    expect(policy.defaults.reminders).toEqual([]);
    expect(policy.defaults.channel).toBe('G0PRIVATE1');
    expect(policy.defaults.approvers.users).toEqual(['W0ENTERPRISE1']);
  });

  it('parses policy.example.yml', () => {
    const text = readFileSync(new URL('../../policy.example.yml', import.meta.url), 'utf8');
    const result = parsePolicy(text, 'policy.example.yml');
    expect(result.ok ? [] : result.errors).toEqual([]);
    if (!result.ok) return;
    const byName = Object.fromEntries(result.policy.rules.map((r) => [r.name, r]));
    expect(byName['prod-db-export']).toMatchObject({
      minApprovals: 2,
      approvers: { groups: ['S0DBA000001'] },
    });
    expect(byName['staging-deploy-low-risk']?.outcome).toBe('auto_approve');
    expect(Object.keys(byName).some((n) => n.startsWith('iam'))).toBe(true);
  });
});

describe('parsePolicy: every error names the file, the line and the field', () => {
  it('reports YAML syntax errors with their line', () => {
    expect(errors(yaml('version: 1', 'rules: [', 'defaults: {}'))).toEqual([
      expect.stringMatching(/^policy\.yml:3: YAML syntax: /),
    ]);
    expect(errors(yaml('version: 1', 'version: 1'))).toEqual([
      'policy.yml:2: YAML syntax: Map keys must be unique',
    ]);
    expect(errors(yaml('version: 1', 'defaults:', '\tmin_approvals: 2'))[0]).toMatch(
      /^policy\.yml:3: YAML syntax: Tabs/,
    );
  });

  it('reports an empty file and a file that is not a mapping', () => {
    expect(errors('')).toEqual(['policy.yml:1: (file): is empty; a policy needs at least "version: 1"']);
    expect(errors('# only a comment\n')).toEqual([
      'policy.yml:1: (file): is empty; a policy needs at least "version: 1"',
    ]);
    expect(errors('- version: 1\n')).toEqual([
      'policy.yml:1: (file): must be a mapping (version, defaults and rules)',
    ]);
  });

  it('requires version 1', () => {
    expect(errors('defaults: {}\n')).toEqual(['policy.yml:1: version: is required']);
    expect(errors('version: 2\n')).toEqual([
      'policy.yml:1: version: must be 1 (the only policy format so far)',
    ]);
  });

  it('refuses unknown keys at every level, suggesting the closest known one', () => {
    expect(
      errors(
        yaml(
          'version: 1',
          'rulez: []',
          'defaults:',
          '  chanel: C0123456789',
          '  approvers: { user: [U0123456] }',
          'rules:',
          '  - name: a',
          '    match: { action: "db.*", env: production }',
          '    min_aprovals: 2',
          '    action: "db.*"',
          '    approvers: { groups: [S0123456], everyone: true }',
          '    colour: blue',
        ),
      ),
    ).toEqual([
      'policy.yml:2: rulez: is not a known field; did you mean "rules"?',
      'policy.yml:4: defaults.chanel: is not a known field; did you mean "channel"?',
      'policy.yml:5: defaults.approvers.user: is not a known field; did you mean "users"?',
      'policy.yml:8: rules[0].match.env: is not a known field (known fields: action, resource, environment, risk, client, claims)',
      'policy.yml:9: rules[0].min_aprovals: is not a known field; did you mean "min_approvals"?',
      'policy.yml:10: rules[0].action: is not a known field of a rule; conditions go under "match:"',
      'policy.yml:11: rules[0].approvers.everyone: is not a known field (known fields: users, groups)',
      'policy.yml:12: rules[0].colour: is not a known field (known fields: name, description, match, outcome, channel, approvers, min_approvals, max_ttl_seconds, deny_reason_required, reminders, attestation_ttl_seconds, require_verified_requester)',
    ]);
  });

  it('checks numbers and booleans', () => {
    expect(
      errors(
        yaml(
          'version: 1',
          'defaults:',
          '  min_approvals: 0',
          '  max_ttl_seconds: 5',
          '  deny_reason_required: yes',
          'rules:',
          '  - name: a',
          '    match: {}',
          '    min_approvals: 1.5',
          '    max_ttl_seconds: "3600"',
          '  - name: b',
          '    match: { action: x }',
          '    min_approvals: 11',
          '    max_ttl_seconds: 2592001',
        ),
      ),
    ).toEqual([
      'policy.yml:3: defaults.min_approvals: must be an integer between 1 and 10',
      'policy.yml:4: defaults.max_ttl_seconds: must be a whole number of seconds between 10 and 2592000 (30 days)',
      'policy.yml:5: defaults.deny_reason_required: must be true or false',
      'policy.yml:9: rules[0].min_approvals: must be an integer between 1 and 10',
      'policy.yml:10: rules[0].max_ttl_seconds: must be a whole number of seconds between 10 and 2592000 (30 days)',
      'policy.yml:13: rules[1].min_approvals: must be an integer between 1 and 10',
      'policy.yml:14: rules[1].max_ttl_seconds: must be a whole number of seconds between 10 and 2592000 (30 days)',
    ]);
  });

  it('checks reminders', () => {
    expect(
      errors(
        yaml(
          'version: 1',
          'defaults:',
          '  reminders: [0.5, 1]',
          'rules:',
          '  - name: a',
          '    match: {}',
          '    reminders:',
          '      - 0',
          '      - 0.5',
          '  - name: b',
          '    match: { action: b }',
          '    reminders: [0.9, 0.5]',
          '  - name: c',
          '    match: { action: c }',
          '    reminders: 0.5',
        ),
      ),
    ).toEqual([
      'policy.yml:3: defaults.reminders[1]: must be a number between 0 and 1 (exclusive): the fraction of the TTL elapsed',
      'policy.yml:8: rules[0].reminders[0]: must be a number between 0 and 1 (exclusive): the fraction of the TTL elapsed',
      'policy.yml:12: rules[1].reminders: must be in increasing order without repeats',
      'policy.yml:15: rules[2].reminders: must be a list of fractions of the TTL, such as [0.5, 0.9], or [] for no reminders',
    ]);
  });

  it('checks Slack IDs: channels C/G, users U/W, groups S', () => {
    expect(
      errors(
        yaml(
          'version: 1',
          'defaults:',
          '  channel: "#deploys"',
          '  approvers:',
          '    users: [U0123456, alice, S0123456]',
          '    groups: [S0123456, U0123456]',
          'rules:',
          '  - name: a',
          '    match: {}',
          '    channel: D0123456',
          '    approvers: { users: U0123456, groups: dba }',
        ),
      ),
    ).toEqual([
      'policy.yml:3: defaults.channel: must be a Slack channel ID such as C0123456789 (starts with C or G; not a #name)',
      'policy.yml:5: defaults.approvers.users[1]: must be a Slack user ID such as U012ABCDEF (starts with U or W)',
      'policy.yml:5: defaults.approvers.users[2]: must be a Slack user ID such as U012ABCDEF (starts with U or W)',
      'policy.yml:6: defaults.approvers.groups[1]: must be a Slack user group ID such as S012ABCDEF (starts with S)',
      'policy.yml:10: rules[0].channel: must be a Slack channel ID such as C0123456789 (starts with C or G; not a #name)',
      'policy.yml:11: rules[0].approvers.groups: must be a Slack user group ID such as S012ABCDEF (starts with S)',
    ]);
  });

  it('checks rule names, outcomes and the required match', () => {
    expect(
      errors(
        yaml(
          'version: 1',
          'rules:',
          '  - match: {}',
          '  - name: "has spaces"',
          '    match: {}',
          '  - name: c',
          '  - name: d',
          '    match: {}',
          '    outcome: approve',
          '  - name: e',
          '    match: [action]',
          '  - just a string',
        ),
      ),
    ).toEqual([
      'policy.yml:3: rules[0].name: is required',
      'policy.yml:4: rules[1].name: must be 1-64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit',
      'policy.yml:6: rules[2].match: is required (use "match: {}" to match every request)',
      'policy.yml:9: rules[3].outcome: must be one of review, auto_approve, deny',
      'policy.yml:11: rules[4].match: must be a mapping (action, resource, environment, risk, client, claims; {} matches every request)',
      'policy.yml:12: rules[5]: must be a mapping (name, match, and settings)',
    ]);
    expect(errors(yaml('version: 1', 'rules:', '  name: a'))).toEqual([
      'policy.yml:2: rules: must be a list of rules (each starting with "- name: ...")',
    ]);
  });

  it('checks match values: globs, environments, risks, clients', () => {
    expect(
      errors(
        yaml(
          'version: 1',
          'rules:',
          '  - name: a',
          '    match:',
          '      action: ["db.[export", "!db.drop", "DB.export", ""]',
          '      resource: "prod-{a,b"',
          '      environment: []',
          '      risk: [low, severe]',
          '      client: 42',
          '  - name: b',
          '    match: { environment: 12, risk: extreme }',
        ),
      ),
    ).toEqual([
      'policy.yml:5: rules[0].match.action[0]: is not a valid glob (missing closing: "]")',
      'policy.yml:5: rules[0].match.action[1]: negation ("!...") is not supported; put a more specific rule first instead',
      'policy.yml:5: rules[0].match.action[2]: can never match an action: actions only use a-z, 0-9, ".", "_", ":" and "-" (wildcards: * ? [...] {a,b})',
      'policy.yml:5: rules[0].match.action[3]: must not be empty',
      'policy.yml:6: rules[0].match.resource: is not a valid glob (missing closing: "}")',
      'policy.yml:7: rules[0].match.environment: must list at least one value (omit the field to match anything)',
      'policy.yml:8: rules[0].match.risk[1]: must be one of low, medium, high, critical',
      'policy.yml:9: rules[0].match.client: must be a client name from COUNTERSIGN_CLIENTS (1-100 characters)',
      'policy.yml:11: rules[1].match.environment: must be an environment name (1-50 characters)',
      'policy.yml:11: rules[1].match.risk: must be one of low, medium, high, critical',
    ]);
  });

  it('refuses duplicate rule names, naming the first use', () => {
    expect(
      errors(
        yaml(
          'version: 1',
          'rules:',
          '  - name: deploys',
          '    match: { action: "deploy.*" }',
          '  - name: exports',
          '    match: { action: "db.export" }',
          '  - name: deploys',
          '    match: { action: "deploy.web" }',
        ),
      ),
    ).toEqual([
      'policy.yml:7: rules[2].name: duplicate rule name "deploys" (already used by rules[0] on line 3)',
    ]);
  });

  it('refuses rules that an earlier catch-all makes unreachable', () => {
    expect(
      errors(
        yaml(
          'version: 1',
          'rules:',
          '  - name: everything',
          '    match: {}',
          '  - name: deploys',
          '    match: { action: "deploy.*" }',
        ),
      ),
    ).toEqual([
      'policy.yml:5: rules[1]: can never match: rules[0] "everything" above it has an empty match and takes every request',
    ]);
  });

  it('refuses review settings on auto_approve and deny rules', () => {
    expect(
      errors(
        yaml(
          'version: 1',
          'rules:',
          '  - name: a',
          '    match: { action: "deploy.*" }',
          '    outcome: auto_approve',
          '    channel: C0DEPLOYS1',
          '    min_approvals: 2',
          '  - name: b',
          '    match: { action: "db.drop" }',
          '    outcome: deny',
          '    approvers: { groups: [S0123456] }',
          '    max_ttl_seconds: 60',
          '    deny_reason_required: false',
          '    reminders: [0.5]',
          '    require_verified_requester: true',
        ),
      ),
    ).toEqual([
      'policy.yml:7: rules[0].min_approvals: has no effect when outcome is auto_approve; remove it',
      'policy.yml:11: rules[1].approvers: has no effect when outcome is deny; remove it',
      'policy.yml:12: rules[1].max_ttl_seconds: has no effect when outcome is deny; remove it',
      'policy.yml:13: rules[1].deny_reason_required: has no effect when outcome is deny; remove it',
      'policy.yml:14: rules[1].reminders: has no effect when outcome is deny; remove it',
      'policy.yml:15: rules[1].require_verified_requester: has no effect when outcome is deny; remove it',
    ]);
  });

  it('refuses a quorum that the listed users alone can never reach', () => {
    expect(
      errors(
        yaml(
          'version: 1',
          'defaults:',
          '  approvers: { users: [U0000001, U0000002] }',
          '  min_approvals: 3',
          'rules:',
          '  - name: a',
          '    match: { action: a }',
          '    min_approvals: 2',
          '    approvers: { users: [U0000001, U0000001] }',
          '  - name: b',
          '    match: { action: b }',
          '    approvers: { users: [U0000003] }',
          '  - name: fine',
          '    match: { action: c }',
          '    approvers: { users: [U0000003], groups: [S0000001] }',
          '    min_approvals: 5',
        ),
      ),
    ).toEqual([
      'policy.yml:4: defaults.min_approvals: can never be met: min_approvals is 3 but approvers lists only 2 users and no groups',
      'policy.yml:8: rules[0].min_approvals: can never be met: min_approvals is 2 but approvers lists only 1 user and no groups',
      'policy.yml:12: rules[1].approvers: can never be met: min_approvals is 3 but approvers lists only 1 user and no groups',
    ]);
  });

  it('uses the given file name in every message', () => {
    const result = parsePolicy('version: 3\n', '/etc/countersign/policy.yaml');
    expect(result).toEqual({
      ok: false,
      errors: ['/etc/countersign/policy.yaml:1: version: must be 1 (the only policy format so far)'],
    });
  });
});

describe('parsePolicy: YAML conveniences', () => {
  it('supports anchors, aliases and merge keys to share settings between rules', () => {
    const policy = ok(
      yaml(
        'version: 1',
        'x-dba: &dba',
        '  channel: C0PRODDATA1',
        '  approvers: { groups: [S0DBA00001] }',
        'rules:',
        '  - name: export',
        '    match: { action: "db.export*" }',
        '    <<: *dba',
        '    min_approvals: 2',
      ),
    );
    expect(policy.rules[0]).toMatchObject({ channel: 'C0PRODDATA1', minApprovals: 2 });
  });
});
