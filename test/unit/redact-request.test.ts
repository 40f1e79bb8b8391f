import { describe, expect, it } from 'vitest';
import { redactRequest } from '../../src/core/redact.js';
import { type CreateRequestInput, createRequestSchema } from '../../src/core/request-schema.js';
import { fake, filler } from '../support/fake-secrets.js';

function request(fields: Record<string, unknown>): CreateRequestInput {
  return createRequestSchema.parse({
    action: 'db.export',
    title: 'Export orders',
    requester: { email: 'dev@example.com' },
    ...fields,
  });
}

/** A GitHub Actions secret reference, `$` + `{{ secrets.TOKEN }}` (a placeholder, not a secret). */
const GHA_SECRET_REF = ['$', '{{ secrets.TOKEN }}'].join('');

describe('redactRequest', () => {
  it('masks every free-text field', () => {
    const token = fake.github('ghp', 1);
    const slack = fake.slack('xoxb', 2);
    const aws = fake.awsKeyId(3);
    const input = request({
      title: `Rotate ${token}`,
      summary: `Uses AWS key ${aws} and password=hunter2`,
      resource: 'postgres://admin:pg-secret@db.prod:5432/orders',
      environment: `prod ${fake.npm(4)}`,
      requester: {
        email: 'dev@example.com',
        slack_user_id: 'U0DEV00001',
        name: `Dev ${fake.stripe('sk_live', 5)}`,
      },
      context: {
        ticket: 'OPS-123',
        db_password: 'correct horse',
        apiKey: 12345678,
        dry_run: true,
        note: `see ${slack}`,
        [`key-${fake.gitlab(6)}`]: 'value',
        rows: 10,
      },
      links: [
        { text: `Run ${token}`, url: 'https://ci:ci-pass@ci.example.com/run/1' },
        { text: 'Dashboard', url: `https://grafana.example.com/d/x?api_key=${filler(20, 7)}` },
      ],
      diff: ['@@ -1 +1 @@', '-DB_PASSWORD=old1', '+DB_PASSWORD=new2'].join('\n'),
      approvers: { users: ['U0ALICE001'] },
      min_approvals: 2,
      ttl_seconds: 600,
      callback_url: 'https://ci.example.com/hook',
    });
    const { value, count } = redactRequest(input);
    expect(value).toEqual({
      action: 'db.export',
      title: 'Rotate ghp_…[redacted]',
      summary: 'Uses AWS key AKIA…[redacted] and password=[redacted]',
      resource: 'postgres://admin:[redacted]@db.prod:5432/orders',
      environment: 'prod npm_…[redacted]',
      risk: 'medium',
      requester: { email: 'dev@example.com', slack_user_id: 'U0DEV00001', name: 'Dev sk_live_…[redacted]' },
      context: {
        ticket: 'OPS-123',
        db_password: '[redacted]',
        apiKey: '[redacted]',
        dry_run: true,
        note: 'see xoxb-…[redacted]',
        'key-glpat-…[redacted]': 'value',
        rows: 10,
      },
      links: [
        { text: 'Run ghp_…[redacted]', url: 'https://ci:[redacted]@ci.example.com/run/1' },
        { text: 'Dashboard', url: 'https://grafana.example.com/d/x?api_key=[redacted]' },
      ],
      diff: ['@@ -1 +1 @@', '-DB_PASSWORD=[redacted]', '+DB_PASSWORD=[redacted]'].join('\n'),
      approvers: { users: ['U0ALICE001'] },
      min_approvals: 2,
      ttl_seconds: 600,
      callback_url: 'https://ci.example.com/hook',
    });
    // ghp token (title and link: once), aws, hunter2, pg-secret, npm, stripe, db_password, apiKey,
    // slack, gitlab, ci-pass, api_key, old1, new2.
    expect(count).toBe(14);
  });

  it('does not change the input, and leaves clean requests as they are', () => {
    const input = request({
      summary: 'password=hunter2',
      context: { a: 'b' },
      links: [{ text: 't', url: 'https://x.example/' }],
    });
    const copy = structuredClone(input);
    const { value } = redactRequest(input);
    expect(input).toEqual(copy);
    expect(value).not.toBe(input);

    const clean = request({
      summary: 'Nothing secret here',
      diff: '@@ -1 +1 @@\n-a\n+b',
      context: { rows: 3 },
    });
    expect(redactRequest(clean)).toEqual({ value: clean, count: 0 });
  });

  it('does not add fields the request did not have', () => {
    const { value } = redactRequest(request({}));
    expect(Object.keys(value).sort()).toEqual([
      'action',
      'min_approvals',
      'requester',
      'risk',
      'title',
      'ttl_seconds',
    ]);
    expect(value.requester).toEqual({ email: 'dev@example.com' });
  });

  it('counts a secret once across fields, and each distinct secret', () => {
    const token = fake.github('ghp', 9);
    const input = request({
      title: `token ${token}`,
      summary: `token=${token}`,
      diff: `+GITHUB_TOKEN=${token}`,
      context: { github_token: token },
    });
    expect(redactRequest(input).count).toBe(1);
    const two = request({ title: `token ${token}`, summary: fake.github('ghp', 10) });
    expect(redactRequest(two).count).toBe(2);
  });

  it('masks the whole value of a context key that names a secret, unless it is a placeholder', () => {
    const { value } = redactRequest(
      request({
        context: {
          password: 'p',
          client_secret: 'abc',
          x_api_key: 'k',
          token: GHA_SECRET_REF,
          passphrase: '',
          token_count: 5,
          password_rotated: true,
          secretName: 'db-creds',
        },
      }),
    );
    expect(value.context).toEqual({
      password: '[redacted]',
      client_secret: '[redacted]',
      x_api_key: '[redacted]',
      token: GHA_SECRET_REF,
      passphrase: '',
      token_count: 5,
      password_rotated: true,
      secretName: 'db-creds',
    });
  });

  it('keeps link URLs parseable', () => {
    const { value } = redactRequest(
      request({
        links: [
          { text: 'a', url: 'https://user:password@example.com/x' },
          { text: 'b', url: fake.slackWebhook() },
          { text: 'c', url: `https://example.com/?token=${filler(30)}` },
        ],
      }),
    );
    for (const link of value.links ?? []) expect(() => new URL(link.url)).not.toThrow();
  });
});
