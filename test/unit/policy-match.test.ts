import { describe, expect, it } from 'vitest';
import { globMatches, globProblem, type Policy, parsePolicy, resolvePolicy } from '../../src/core/policy.js';
import { type CreateRequestInput, createRequestSchema } from '../../src/core/request-schema.js';

function policy(...lines: string[]): Policy {
  const result = parsePolicy(`version: 1\n${lines.join('\n')}\n`, 'policy.yml');
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.policy;
}

function request(fields: Record<string, unknown> = {}): CreateRequestInput {
  return createRequestSchema.parse({
    action: 'db.export',
    title: 'Export',
    requester: { email: 'a@example.com' },
    ...fields,
  });
}

const ruleFor = (p: Policy, fields: Record<string, unknown> = {}, client = 'ci') =>
  resolvePolicy(p, request(fields), client).rule;

describe('globs', () => {
  it('treats "." as an ordinary character: "*" crosses dots, slashes and colons', () => {
    expect(globMatches('db.*', 'db.export')).toBe(true);
    expect(globMatches('db.*', 'db.export.full')).toBe(true);
    expect(globMatches('db.*', 'db.')).toBe(true); // "*" may match nothing
    expect(globMatches('db.*', 'db')).toBe(false);
    expect(globMatches('db.*', 'dbx.export')).toBe(false);
    expect(globMatches('db.export*', 'db.export_csv')).toBe(true);
    expect(globMatches('*.export', 'db.mysql.export')).toBe(true);
    expect(globMatches('arn:aws:s3:::prod-*', 'arn:aws:s3:::prod-logs/2024/01')).toBe(true);
    expect(globMatches('*', 's3://bucket/.hidden/key')).toBe(true);
    expect(globMatches('**', 'a/b')).toBe(true);
  });

  it('matches the whole string, case-sensitively', () => {
    expect(globMatches('db.export', 'db.export.full')).toBe(false);
    expect(globMatches('export', 'db.export')).toBe(false);
    expect(globMatches('db.*', 'DB.export')).toBe(false);
  });

  it('supports ?, classes and alternatives', () => {
    expect(globMatches('db.export.v?', 'db.export.v2')).toBe(true);
    expect(globMatches('db.export.v?', 'db.export.v10')).toBe(false);
    expect(globMatches('db.[de]*', 'db.drop')).toBe(true);
    expect(globMatches('db.[^d]*', 'db.drop')).toBe(false);
    expect(globMatches('db.[^d]*', 'db.export')).toBe(true);
    expect(globMatches('db.{export,dump}', 'db.dump')).toBe(true);
    expect(globMatches('db.{export,dump}', 'db.drop')).toBe(false);
  });

  it('never matches an empty value', () => {
    expect(globMatches('*', '')).toBe(false);
  });

  it('explains bad globs', () => {
    expect(globProblem('db.*')).toBeNull();
    expect(globProblem('')).toBe('must not be empty');
    expect(globProblem('!db.*')).toMatch(/negation/);
    expect(globProblem('db.[x')).toMatch(/not a valid glob/);
    expect(globProblem('db.{a,b')).toMatch(/not a valid glob/);
    expect(globProblem('db.(a')).toMatch(/not a valid glob/);
    expect(globProblem('a\\*')).toMatch(/backslash/);
    expect(globProblem('db.[!d]*')).toMatch(/\[\^\.\.\.\]/);
    expect(globProblem('x'.repeat(201))).toMatch(/200/);
  });
});

describe('rule matching', () => {
  it('applies the first matching rule, in file order', () => {
    const p = policy(
      'rules:',
      '  - name: exact',
      '    match: { action: db.export }',
      '  - name: general',
      '    match: { action: "db.*" }',
      '  - name: catch-all',
      '    match: {}',
    );
    expect(ruleFor(p, { action: 'db.export' })).toBe('exact');
    expect(ruleFor(p, { action: 'db.export.full' })).toBe('general');
    expect(ruleFor(p, { action: 'iam.role.attach' })).toBe('catch-all');

    const reversed = policy(
      'rules:',
      '  - name: general',
      '    match: { action: "db.*" }',
      '  - name: exact',
      '    match: { action: db.export }',
    );
    expect(ruleFor(reversed, { action: 'db.export' })).toBe('general');
  });

  it('matches a list when any entry matches', () => {
    const p = policy(
      'rules:',
      '  - name: r',
      '    match:',
      '      action: ["db.export*", "db.dump"]',
      '      environment: [production, prod]',
      '      risk: [high, critical]',
      '      client: [ci, release-bot]',
      '      resource: ["orders", "customers.*"]',
    );
    const base = { action: 'db.dump', environment: 'prod', risk: 'critical', resource: 'customers.pii' };
    expect(ruleFor(p, base, 'release-bot')).toBe('r');
    expect(ruleFor(p, { ...base, action: 'db.export.full' }, 'ci')).toBe('r');
    expect(ruleFor(p, { ...base, resource: 'orders' })).toBe('r');
    expect(ruleFor(p, { ...base, action: 'db.drop' })).toBeNull();
    expect(ruleFor(p, { ...base, environment: 'staging' })).toBeNull();
    expect(ruleFor(p, { ...base, risk: 'medium' })).toBeNull();
    expect(ruleFor(p, base, 'agent')).toBeNull();
    expect(ruleFor(p, { ...base, resource: 'payments' })).toBeNull();
  });

  it('matches environment, risk and client by exact, case-sensitive value', () => {
    const p = policy(
      'rules:',
      '  - name: r',
      '    match: { environment: production, risk: high, client: ci }',
    );
    expect(ruleFor(p, { environment: 'production', risk: 'high' })).toBe('r');
    expect(ruleFor(p, { environment: 'Production', risk: 'high' })).toBeNull();
    expect(ruleFor(p, { environment: 'production-eu', risk: 'high' })).toBeNull();
    expect(ruleFor(p, { environment: 'production', risk: 'high' }, 'ci2')).toBeNull();
  });

  it('treats omitted fields as matching anything', () => {
    const p = policy('rules:', '  - name: any-export', '    match: { action: "db.export*" }');
    expect(ruleFor(p, {})).toBe('any-export');
    expect(ruleFor(p, { environment: 'production', risk: 'critical', resource: 'x' }, 'other')).toBe(
      'any-export',
    );
  });

  it('does not match a request that lacks a field the rule names', () => {
    const p = policy(
      'rules:',
      '  - name: needs-env',
      '    match: { environment: production }',
      '  - name: needs-resource',
      '    match: { resource: "*" }',
    );
    expect(ruleFor(p, {})).toBeNull();
    expect(ruleFor(p, { resource: 'orders' })).toBe('needs-resource');
    expect(ruleFor(p, { environment: 'production' })).toBe('needs-env');
  });

  it('uses the request default risk (medium) when the request names none', () => {
    const p = policy('rules:', '  - name: medium', '    match: { risk: medium }');
    expect(ruleFor(p, {})).toBe('medium');
  });

  it('applies the defaults when nothing matches', () => {
    const p = policy(
      'defaults:',
      '  channel: C0DEFAULT1',
      '  min_approvals: 2',
      'rules:',
      '  - name: deploys',
      '    match: { action: "deploy.*" }',
      '    channel: C0DEPLOYS1',
    );
    const effective = resolvePolicy(p, request({ action: 'iam.role.attach' }), 'ci');
    expect(effective).toMatchObject({
      rule: null,
      outcome: 'review',
      channel: 'C0DEFAULT1',
      minApprovals: 2,
    });
  });
});
