import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const secret = `whsec_${Buffer.from('0123456789abcdef0123').toString('base64')}`;
const base = {
  SLACK_BOT_TOKEN: 'xoxb-1',
  SLACK_SIGNING_SECRET: 'abcdef123456',
  COUNTERSIGN_CLIENTS: `ci=${secret}`,
  COUNTERSIGN_DEFAULT_CHANNEL: 'C0123',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the contract defaults', () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      slackApiUrl: 'https://slack.com/api/',
      port: 3000,
      host: '0.0.0.0',
      databasePath: './data/countersign.db',
      admins: [],
      callbackAllow: ['https://'],
      policyPath: null,
      expiryCron: '* * * * *',
      auditSigningKey: null,
      auditChannel: null,
    });
    expect(c.clients).toEqual([{ name: 'ci', key: Buffer.from('0123456789abcdef0123') }]);
  });

  it('names every missing variable in one error', () => {
    expect(problems({})).toEqual([
      'SLACK_BOT_TOKEN: is required but not set',
      'COUNTERSIGN_CLIENTS: is required but not set',
      expect.stringMatching(/^SLACK_SIGNING_SECRET: is required over HTTP/),
      expect.stringMatching(/^COUNTERSIGN_DEFAULT_CHANNEL: is required/),
    ]);
  });

  it('treats empty strings as unset', () => {
    expect(problems({ ...base, SLACK_BOT_TOKEN: '  ' })).toEqual([
      'SLACK_BOT_TOKEN: is required but not set',
    ]);
  });

  it('names each malformed variable', () => {
    const p = problems({
      ...base,
      SLACK_BOT_TOKEN: 'xoxp-user-token',
      PORT: 'eighty',
      COUNTERSIGN_CLIENTS: 'ci=secret,agent',
      COUNTERSIGN_ADMINS: 'U123,bob',
      COUNTERSIGN_DEFAULT_CHANNEL: '#approvals',
      EXPIRY_CRON: 'every minute',
      COUNTERSIGN_CALLBACK_ALLOW: 'ftp://x',
    });
    expect(p.map((x) => x.split(':')[0])).toEqual([
      'SLACK_BOT_TOKEN',
      'PORT',
      'COUNTERSIGN_CLIENTS',
      'COUNTERSIGN_CLIENTS',
      'COUNTERSIGN_DEFAULT_CHANNEL',
      'COUNTERSIGN_ADMINS',
      'COUNTERSIGN_CALLBACK_ALLOW',
      'EXPIRY_CRON',
    ]);
    expect(p.join('\n')).toContain('"bob" is not a Slack user ID');
  });

  it('accepts key rotation (a name twice) and 6-field cron', () => {
    const other = `whsec_${Buffer.from('fedcba9876543210fedc').toString('base64')}`;
    const c = loadConfig({
      ...base,
      COUNTERSIGN_CLIENTS: `ci=${secret}, ci=${other}`,
      EXPIRY_CRON: '* * * * * *',
    });
    expect(c.clients.map((x) => x.name)).toEqual(['ci', 'ci']);
    expect(c.expiryCron).toBe('* * * * * *');
  });

  it('does not require a default channel when a policy file is set', () => {
    const { COUNTERSIGN_DEFAULT_CHANNEL: _, ...rest } = base;
    expect(problems({ ...rest, COUNTERSIGN_POLICY: './policy.yml' })).toEqual([]);
  });

  it('puts every problem in the thrown message', () => {
    expect(() => loadConfig({})).toThrow(/SLACK_BOT_TOKEN[\s\S]*COUNTERSIGN_CLIENTS/);
  });

  it('takes Socket Mode without a signing secret, and the contract v2 settings', () => {
    const { SLACK_SIGNING_SECRET: _, ...socket } = base;
    const c = loadConfig({
      ...socket,
      SLACK_APP_TOKEN: 'xapp-1-abc',
      DATABASE_URL: 'postgres://countersign@db.internal:5432/countersign',
      COUNTERSIGN_OIDC: 'github=https://token.actions.githubusercontent.com, local=http://127.0.0.1:8123',
      COUNTERSIGN_PUBLIC_URL: 'https://countersign.example.com/',
      COUNTERSIGN_METRICS_TOKEN: 'metrics-token-0123456789',
      LOG_LEVEL: 'debug',
    });
    expect(c).toMatchObject({
      slackSigningSecret: null,
      slackAppToken: 'xapp-1-abc',
      databaseUrl: 'postgres://countersign@db.internal:5432/countersign',
      oidcIssuers: [
        { name: 'github', url: 'https://token.actions.githubusercontent.com' },
        { name: 'local', url: 'http://127.0.0.1:8123' },
      ],
      oidcAudience: 'countersign',
      publicUrl: 'https://countersign.example.com',
      metricsToken: 'metrics-token-0123456789',
      logLevel: 'debug',
    });
  });

  it('names a bad log level, database URL, app token and OIDC issuer with the other problems', () => {
    expect(
      problems({
        ...base,
        LOG_LEVEL: 'verbose',
        DATABASE_URL: 'mysql://db',
        SLACK_APP_TOKEN: 'xoxb-not-an-app-token',
        COUNTERSIGN_OIDC: 'gh=http://issuer.example.com',
      }),
    ).toEqual([
      expect.stringMatching(/^SLACK_APP_TOKEN: must be an app-level token/),
      expect.stringMatching(/^DATABASE_URL: must be a PostgreSQL URL/),
      expect.stringMatching(/^COUNTERSIGN_OIDC: entry 1 must look like name=https:/),
      'LOG_LEVEL: must be debug, info, warn or error',
    ]);
  });

  it('checks AUDIT_SIGNING_KEY in the same step and names it with every other problem', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const found = problems({ LOG_LEVEL: 'verbose', AUDIT_SIGNING_KEY: rsa });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^AUDIT_SIGNING_KEY: must be an Ed25519 key, got rsa \(give an Ed25519 private key/,
        ),
        'LOG_LEVEL: must be debug, info, warn or error',
        'SLACK_BOT_TOKEN: is required but not set',
      ]),
    );
    expect(
      problems({
        ...base,
        AUDIT_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----',
      }),
    ).toEqual([expect.stringMatching(/^AUDIT_SIGNING_KEY: is not a readable private key/)]);
    expect(problems({ ...base, AUDIT_SIGNING_KEY: '/nonexistent/key.pem' })).toEqual([
      expect.stringMatching(/^AUDIT_SIGNING_KEY: no file at \/nonexistent\/key.pem/),
    ]);
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(loadConfig({ ...base, AUDIT_SIGNING_KEY: ed }).auditSigningKey).toBe(ed.trim());
  });
});
