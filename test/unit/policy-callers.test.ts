import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/core/caller.js';
import {
  applyRequesterBinding,
  attestationTtlSeconds,
  bindRequester,
  explainPolicy,
  type Policy,
  parsePolicy,
  resolvePolicy,
} from '../../src/core/policy.js';
import { type CreateRequestInput, parseCreateRequest } from '../../src/core/request-schema.js';

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

function ok(text: string): Policy {
  const result = parsePolicy(text, 'policy.yml');
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.policy;
}

function errors(text: string): string[] {
  const result = parsePolicy(text, 'policy.yml');
  if (result.ok) throw new Error('expected errors');
  return result.errors;
}

function request(over: Partial<CreateRequestInput> = {}): CreateRequestInput {
  const parsed = parseCreateRequest({
    action: 'deploy.web',
    title: 'Deploy',
    requester: { email: 'someone@example.com' },
    environment: 'production',
    ...over,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

const caller = (
  claims: Record<string, unknown> = {},
  subject = 'repo:acme/web:ref:refs/heads/main',
): Caller => ({
  issuer: 'https://token.actions.githubusercontent.com',
  subject,
  claims: { repository: 'acme/web', ref: 'refs/heads/main', actor: 'octocat', run_attempt: 2, ...claims },
});

const PROD_FROM_MAIN = ok(
  yaml(
    'version: 1',
    'defaults:',
    '  attestation_ttl_seconds: 600',
    'rules:',
    '  - name: prod-from-main',
    '    match:',
    '      action: "deploy.*"',
    '      environment: production',
    '      claims: { repository: "acme/*", ref: refs/heads/main }',
    '    approvers: { groups: [S0RELEASE01] }',
    '    attestation_ttl_seconds: 300',
    '  - name: prod-otherwise',
    '    match: { action: "deploy.*", environment: production }',
    '    outcome: deny',
  ),
);

describe("policy: rules that match on the caller's claims", () => {
  it('lets production deploys through only from acme/* on refs/heads/main, and refuses the rest', () => {
    const rule = (c: Caller | null) => resolvePolicy(PROD_FROM_MAIN, request(), 'github', c);
    expect(rule(caller())).toMatchObject({ rule: 'prod-from-main', outcome: 'review' });
    expect(rule(caller({ ref: 'refs/heads/feature' }))).toMatchObject({
      rule: 'prod-otherwise',
      outcome: 'deny',
    });
    expect(rule(caller({ repository: 'evil/web' }))).toMatchObject({
      rule: 'prod-otherwise',
      outcome: 'deny',
    });
    expect(rule(caller({ repository: undefined }))).toMatchObject({ outcome: 'deny' });
    // A Standard Webhooks caller has no claims, so it never matches a claims condition.
    expect(rule(null)).toMatchObject({ rule: 'prod-otherwise', outcome: 'deny' });
  });

  it('matches numbers and booleans as text, list claims by any item, and sub / iss by name', () => {
    const p = ok(
      yaml(
        'version: 1',
        'rules:',
        '  - name: r',
        '    match: { claims: { run_attempt: 2, groups: "ops-*", sub: "repo:acme/*", iss: "https://token.actions.*" } }',
      ),
    );
    expect(p.rules[0]?.match.claims).toEqual({
      run_attempt: ['2'],
      groups: ['ops-*'],
      sub: ['repo:acme/*'],
      iss: ['https://token.actions.*'],
    });
    const c = caller({ groups: ['dev', 'ops-oncall'] });
    expect(resolvePolicy(p, request(), 'github', c).rule).toBe('r');
    expect(resolvePolicy(p, request(), 'github', caller({ groups: ['dev'] })).rule).toBeNull();
    expect(
      resolvePolicy(p, request(), 'github', caller({ groups: ['ops-x'] }, 'repo:other/x')).rule,
    ).toBeNull();
  });

  it('validates claims conditions with file, line and field', () => {
    expect(
      errors(
        yaml(
          'version: 1',
          'rules:',
          '  - name: a',
          '    match: { claims: {} }',
          '  - name: b',
          '    match: { claims: { "bad name!": x } }',
          '  - name: c',
          '    match: { claims: { repository: "!acme/*" } }',
          '  - name: d',
          '    match: { claims: [repository] }',
        ),
      ),
    ).toEqual([
      'policy.yml:4: rules[0].match.claims: must name at least one claim (omit "claims" to match any caller)',
      'policy.yml:6: rules[1].match.claims.bad name!: must be a claim name such as repository or ref (letters, digits, "_", ".", ":", "-")',
      'policy.yml:8: rules[2].match.claims.repository: negation ("!...") is not supported; put a more specific rule first instead',
      'policy.yml:10: rules[3].match.claims: must be a mapping (claim name: glob or [globs], e.g. repository: "acme/*")',
    ]);
  });

  it("explains a caller's request, claim by claim", () => {
    const text = explainPolicy(PROD_FROM_MAIN, request(), 'github', caller({ ref: 'refs/heads/dev' }));
    expect(text.split('\n')).toEqual([
      'Request: action "deploy.web", resource (none), environment "production", risk "medium", client "github"',
      'Caller: issuer https://token.actions.githubusercontent.com, subject "repo:acme/web:ref:refs/heads/main", repository "acme/web", ref "refs/heads/dev", actor "octocat"',
      `Policy: policy.yml (sha256 ${PROD_FROM_MAIN.hash.slice(0, 12)})`,
      'Rules, in order (the first match applies):',
      '  1. "prod-from-main" (line 5): no match: claims.ref "refs/heads/dev" matches none of "refs/heads/main"',
      '  2. "prod-otherwise" (line 12): MATCHES: action "deploy.web" matches "deploy.*"; environment "production" is "production"',
      'Outcome: deny (refused at once; no one is asked)',
      'Channel: COUNTERSIGN_DEFAULT_CHANNEL (the policy names none)',
    ]);
    const good = explainPolicy(PROD_FROM_MAIN, request(), 'github', caller());
    expect(good).toContain(
      'MATCHES: action "deploy.web" matches "deploy.*"; environment "production" is "production"; claims.repository "acme/web" matches "acme/*"; claims.ref "refs/heads/main" matches "refs/heads/main"',
    );
    expect(good).toContain('Attestation: valid 300 s after the approval');
  });
});

describe('policy: attestation lifetime', () => {
  it('defaults to 15 minutes, set in defaults or per rule, looked up by the rule a request recorded', () => {
    expect(attestationTtlSeconds(null, null)).toBe(900);
    expect(attestationTtlSeconds(ok('version: 1\n'), null)).toBe(900);
    expect(attestationTtlSeconds(PROD_FROM_MAIN, 'prod-from-main')).toBe(300);
    expect(attestationTtlSeconds(PROD_FROM_MAIN, null)).toBe(600);
    expect(attestationTtlSeconds(PROD_FROM_MAIN, 'renamed-since')).toBe(600);
    expect(resolvePolicy(PROD_FROM_MAIN, request(), 'github', caller()).attestationTtlSeconds).toBe(300);
  });

  it('is bounded, allowed on auto_approve rules and refused on deny rules', () => {
    expect(
      errors(
        yaml(
          'version: 1',
          'defaults: { attestation_ttl_seconds: 90000 }',
          'rules:',
          '  - name: auto',
          '    match: { action: "x.*" }',
          '    outcome: auto_approve',
          '    attestation_ttl_seconds: 60',
          '  - name: no',
          '    match: { action: "y.*" }',
          '    outcome: deny',
          '    attestation_ttl_seconds: 60',
        ),
      ),
    ).toEqual([
      'policy.yml:2: defaults.attestation_ttl_seconds: must be a whole number of seconds between 10 and 86400 (one day)',
    ]);
    expect(
      errors(
        yaml(
          'version: 1',
          'rules:',
          '  - name: no',
          '    match: { action: "y.*" }',
          '    outcome: deny',
          '    attestation_ttl_seconds: 60',
        ),
      ),
    ).toEqual([
      'policy.yml:6: rules[0].attestation_ttl_seconds: has no effect when outcome is deny (a refused request has no attestation); remove it',
    ]);
  });
});

const BOUND = ok(
  yaml(
    'version: 1',
    'requesters:',
    '  - client: github',
    '    claim: actor',
    '    users:',
    '      octocat: U0OCTOCAT1',
    '      mona: mona.lisa@example.com',
    '    email: "{value}@example.com"',
    '  - client: gitlab',
    '    claim: user_login',
    '    users: { jdoe: U0JDOE0001 }',
    '    required: true',
  ),
);

describe('policy: requester binding', () => {
  it('binds through the explicit map, case-insensitively, then the email pattern', () => {
    expect(bindRequester(BOUND, 'github', caller())).toMatchObject({
      kind: 'bound',
      requester: { slack_user_id: 'U0OCTOCAT1', name: 'octocat' },
      via: 'users',
    });
    expect(bindRequester(BOUND, 'github', caller({ actor: 'OctoCat' }))).toMatchObject({
      requester: { slack_user_id: 'U0OCTOCAT1' },
    });
    expect(bindRequester(BOUND, 'github', caller({ actor: 'mona' }))).toMatchObject({
      requester: { email: 'mona.lisa@example.com' },
    });
    expect(bindRequester(BOUND, 'github', caller({ actor: 'hubot' }))).toMatchObject({
      kind: 'bound',
      requester: { email: 'hubot@example.com', name: 'hubot' },
      via: 'email',
    });
  });

  it('binds nobody for secrets callers and unconfigured clients; says why when a binding does not apply', () => {
    expect(bindRequester(BOUND, 'github', null)).toEqual({ kind: 'none' });
    expect(bindRequester(null, 'github', caller())).toEqual({ kind: 'none' });
    expect(bindRequester(BOUND, 'circleci', caller())).toEqual({ kind: 'none' });
    // A bot login cannot form an email; the body's requester then stands (binding not required).
    expect(bindRequester(BOUND, 'github', caller({ actor: 'dependabot[bot]' }))).toMatchObject({
      kind: 'unbound',
      required: false,
      why: 'actor "dependabot[bot]" cannot form an email address ({value}@example.com)',
    });
    expect(bindRequester(BOUND, 'gitlab', caller({ user_login: 'mallory' }))).toMatchObject({
      kind: 'unbound',
      required: true,
      why: 'user_login "mallory" is not listed under users',
    });
    expect(bindRequester(BOUND, 'gitlab', caller())).toMatchObject({
      kind: 'unbound',
      why: 'the caller\'s token has no "user_login" claim',
    });
  });

  it('puts the bound person into the body, and refuses a body that names someone else', () => {
    const bound = bindRequester(BOUND, 'github', caller());
    if (bound.kind !== 'bound') throw new Error('expected a binding');
    const body = { action: 'deploy.web', title: 'Deploy' };
    expect(applyRequesterBinding(body, bound)).toEqual({
      ok: true,
      body: { ...body, requester: { slack_user_id: 'U0OCTOCAT1', name: 'octocat' } },
    });
    expect(
      applyRequesterBinding(
        { ...body, requester: { slack_user_id: 'U0OCTOCAT1', name: 'The Octocat' } },
        bound,
      ),
    ).toEqual({
      ok: true,
      body: { ...body, requester: { slack_user_id: 'U0OCTOCAT1', name: 'The Octocat' } },
    });
    for (const requester of [
      { slack_user_id: 'U0ALICE001' },
      { email: 'octocat@example.com' },
      { name: 'x' },
      'U0OCTOCAT1',
    ]) {
      expect(applyRequesterBinding({ ...body, requester }, bound)).toEqual({
        ok: false,
        issue: {
          path: 'requester',
          message:
            'the policy binds this caller\'s requester to U0OCTOCAT1 (actor "octocat"); omit requester, or name U0OCTOCAT1 exactly',
        },
      });
    }
    const byEmail = bindRequester(BOUND, 'github', caller({ actor: 'hubot' }));
    if (byEmail.kind !== 'bound') throw new Error('expected a binding');
    // The same address with another case or a +tag is the same person.
    expect(
      applyRequesterBinding({ ...body, requester: { email: 'HUBOT+ci@example.com' } }, byEmail),
    ).toMatchObject({
      ok: true,
      body: { requester: { email: 'hubot@example.com' } },
    });
  });

  it('validates the requesters section', () => {
    expect(
      errors(
        yaml(
          'version: 1',
          'requesters:',
          '  - client: github',
          '    claim: actor',
          '  - client: github',
          '    claim: actor',
          '    email: "ci@{value}.example.com"',
          '  - client: gitlab',
          '    claim: user_login',
          '    users: { jdoe: "#general" }',
          '    colour: red',
        ),
      ),
    ).toEqual([
      'policy.yml:3: requesters[0]: needs "users" (a map of claim values to people), "email" (a pattern), or both',
      'policy.yml:5: requesters[1].client: a binding for client "github" is already given by requesters[0]; keep one per client',
      'policy.yml:7: requesters[1].email: must be an email address with {value} once before the "@", such as "{value}@example.com"; {value} is the claim\'s value',
      'policy.yml:10: requesters[2].users.jdoe: must be a Slack user ID such as U012ABCDEF or an email address',
      'policy.yml:11: requesters[2].colour: is not a known field (known fields: client, claim, users, email, required)',
    ]);
  });

  it('shows the binding in explanations', () => {
    const text = explainPolicy(BOUND, request(), 'github', caller());
    expect(text).toContain(
      'Requester: U0OCTOCAT1, bound by requesters (line 3) from actor "octocat"; the body cannot name anyone else',
    );
    expect(explainPolicy(BOUND, request(), 'gitlab', caller({ user_login: 'mallory' }))).toContain(
      'Requester: REFUSED (403): user_login "mallory" is not listed under users, and the binding (line 9) is required',
    );
  });
});
