import { describe, expect, it } from 'vitest';
import { redactRequest } from '../../src/core/redact.js';
import { type CreateRequestInput, createRequestSchema } from '../../src/core/request-schema.js';

/**
 * Fake credentials for the redaction tests, built from pieces at run time so that no
 * real-looking secret literal sits in the source (secret scanners stay quiet).
 */
const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const UPPER_ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const BASE64 = `${ALPHANUMERIC}+/`;

/** Deterministic pseudo-random text over `alphabet` (a small LCG; same seed, same text). */
function filler(length: number, seed = 1, alphabet = ALPHANUMERIC): string {
  let x = seed;
  let out = '';
  for (let i = 0; i < length; i++) {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    out += alphabet[Math.floor((x / 2_147_483_648) * alphabet.length)];
  }
  // Make sure it mixes cases and digits, as real tokens do.
  return `${out.slice(0, -3)}${alphabet === ALPHANUMERIC ? 'a7Z' : out.slice(-3)}`;
}

const upper = (length: number, seed = 1) => filler(length, seed, UPPER_ALPHANUMERIC);
const base64 = (length: number, seed = 1) => filler(length, seed, BASE64);

const fake = {
  awsKeyId: (seed = 1) => `AKIA${upper(16, seed)}`,
  awsTempKeyId: (seed = 1) => `ASIA${upper(16, seed)}`,
  awsSecret: (seed = 1) => base64(40, seed),
  gcpApiKey: (seed = 1) => `AIza${filler(35, seed)}`,
  github: (prefix: string, seed = 1) => `${prefix}_${filler(36, seed)}`,
  githubPat: (seed = 1) => `github_pat_${filler(22, seed)}_${filler(59, seed + 1)}`,
  gitlab: (seed = 1) => `glpat-${filler(20, seed)}`,
  slack: (prefix: string, seed = 1) => `${prefix}-${'1234567890'}-${'0987654321'}-${filler(24, seed)}`,
  slackApp: (seed = 1) => `xapp-1-A0${upper(9, seed)}-1234567890123-${filler(64, seed).toLowerCase()}`,
  slackWebhook: (seed = 1) =>
    `https://hooks.slack.com/services/T0${upper(8, seed)}/B0${upper(8, seed + 1)}/${filler(24, seed)}`,
  stripe: (prefix: string, seed = 1) => `${prefix}_${filler(24, seed)}`,
  openai: (seed = 1) => `sk-${filler(48, seed)}`,
  openaiProject: (seed = 1) => `sk-proj-${filler(64, seed)}`,
  anthropic: (seed = 1) => `sk-ant-api03-${filler(93, seed)}AA`,
  npm: (seed = 1) => `npm_${filler(36, seed)}`,
  webhookSecret: (seed = 1) => `whsec_${base64(32, seed)}`,
  vault: (seed = 1) => `hvs.${filler(90, seed)}`,
  sendgrid: (seed = 1) => `SG.${filler(22, seed)}.${filler(43, seed + 1)}`,
  jwt: (seed = 1) =>
    `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(`{"sub":"${seed}","name":"Jo"}`).toString('base64url')}.${filler(43, seed)}`,
  azureKey: (seed = 1) => `${base64(86, seed)}==`,
  /** PEM body lines of 64 columns, as RFC 7468 writes them, plus a short last line. */
  pemBody: (lines = 4, seed = 1) => [
    ...Array.from({ length: lines }, (_, i) => `MII${base64(61, seed + i)}`),
    `${base64(20, seed + 99)}==`,
  ],
  pem: (label = 'RSA PRIVATE KEY', lines = 4, seed = 1) =>
    [`-----BEGIN ${label}-----`, ...fake.pemBody(lines, seed), `-----END ${label}-----`].join('\n'),
};

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
