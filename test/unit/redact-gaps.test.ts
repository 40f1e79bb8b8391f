import { describe, expect, it } from 'vitest';
import { maskUrl } from '../../src/core/mask-url.js';
import { redactDiff, redactText } from '../../src/core/redact.js';
import { SECRET_PATTERNS } from '../../src/core/secret-patterns.js';
import { fake, filler } from '../support/fake-secrets.js';
import { SECRET_SAMPLES } from '../support/secret-samples.js';

/** Gaps an outside review found in the pattern set, and the classes they stand for. */
describe('redactText: key names, command lines and YAML', () => {
  const cases: [string, string, string][] = [
    ['a key ending in PASS', 'DB_PASS=hunter2', 'DB_PASS=[redacted]'],
    ['PASS alone', 'PASS: hunter2', 'PASS: [redacted]'],
    ["Rails' SECRET_KEY_BASE", `SECRET_KEY_BASE=${filler(64)}`, 'SECRET_KEY_BASE=[redacted]'],
    ['a key ending in AUTH', 'REDIS_AUTH=s3cret-value', 'REDIS_AUTH=[redacted]'],
    ["npm's _auth", '_auth=dXNlcjpwYXNz', '_auth=[redacted]'],
    ['a key ending in CREDS', 'SMTP_CREDS=user:pw', 'SMTP_CREDS=[redacted]'],
    [
      '?pass= in a URL',
      'https://api.example.com/x?pass=hunter2&y=1',
      'https://api.example.com/x?pass=[redacted]&y=1',
    ],
    ['mysql -p<password>', 'mysql -h db -u root -phunter2 shop', 'mysql -h db -u root -p[redacted] shop'],
    [
      'mysqldump -p"<password>"',
      'mysqldump -u root -p"s3 cret" shop',
      'mysqldump -u root -p"[redacted]" shop',
    ],
    [
      'curl -u user:password',
      'curl -sS -u deploy:hunter2 https://x',
      'curl -sS -u deploy:[redacted] https://x',
    ],
    [
      'curl --user=user:password',
      'curl --user=deploy:hunter2 https://x',
      'curl --user=deploy:[redacted] https://x',
    ],
    ['sshpass -p', "sshpass -p 'hunter2' ssh host", "sshpass -p '[redacted]' ssh host"],
    [
      'sshpass -p after its options',
      'sshpass -v -P assword -phunter2 ssh host',
      'sshpass -v -P assword -p[redacted] ssh host',
    ],
    ['--db-pass flag', 'app --db-pass s3cret', 'app --db-pass [redacted]'],
    ['openssl -pass', 'openssl enc -pass pass:hunter2 -in x', 'openssl enc -pass [redacted] -in x'],
    ['unquoted YAML value with spaces', 'password: correct horse battery staple', 'password: [redacted]'],
    [
      'indented YAML with a comment',
      'db:\n  password: correct horse battery  # rotated weekly\n  user: app',
      'db:\n  password: [redacted]  # rotated weekly\n  user: app',
    ],
    ['YAML list item', '- api_key: abc def ghi', '- api_key: [redacted]'],
    [
      'NuGet.config',
      '<add key="ClearTextPassword" value="hunter2" />',
      '<add key="ClearTextPassword" value="[redacted]" />',
    ],
  ];

  it.each(cases)('%s', (_what, input, expected) => {
    expect(redactText(input)).toEqual({ text: expected, count: 1 });
  });

  const untouched = [
    'bypass=cache',
    'oauth=github',
    'compass: north',
    'mkdir -p /tmp/x && ssh -p 2222 host',
    'mysql -p shop',
    'mysql -u root -p$MYSQL_PWD shop',
    'docker exec -u 1000:1000 app sh',
    'sqlmap -u "http://target/x?id=1"',
    'sshpass -f pwfile ssh -p 2222 host',
    'token: string | null',
    'password: str = None',
    'password: <your password here>',
    'It is risk-free: password rotation is weekly, see the runbook',
  ];
  it.each(untouched)('leaves %j alone', (input) => {
    expect(redactText(input)).toEqual({ text: input, count: 0 });
  });

  it('masks a prose value only up to its first space', () => {
    expect(redactText('The password: s3cr3t, is in the vault').text).toBe(
      'The password: [redacted], is in the vault',
    );
  });
});

describe('redactText: invisible characters inside a token', () => {
  const token = fake.github('ghp', 7);
  const split = (s: string, ch: string) => s.replace(/(.{6})/g, `$1${ch}`);

  it.each([
    ['zero-width space', '\u200b'],
    ['zero-width joiner', '\u200d'],
    ['soft hyphen', '\u00ad'],
    ['word joiner', '\u2060'],
    ['byte order mark', '\ufeff'],
  ])('still finds a token cut by a %s', (_what, ch) => {
    const { text, count } = redactText(`token ${split(token, ch)} end`);
    expect(count).toBe(1);
    expect(text).toBe('token ghp_…[redacted] end');
  });

  it('counts a cut token and the same token whole as one secret', () => {
    expect(redactText(`${token} ${split(token, '\u200b')}`).count).toBe(1);
  });

  it('keeps a diff its shape when a cut token sits in it', () => {
    const diff = `@@ -1 +1 @@\n-old\n+KEY=${split(fake.stripe('sk_live', 3), '\u200c').replace('\u200c', '')}\n context`;
    const out = redactDiff(diff).text;
    expect(out.split('\n')).toEqual(['@@ -1 +1 @@', '-old', '+KEY=sk_live_…[redacted]', ' context']);
  });
});

describe('the pattern set follows a maintained list', () => {
  it('names the source of every pattern (gitleaks rule ids where one exists)', () => {
    for (const p of SECRET_PATTERNS) {
      expect(p.source, p.kind).toMatch(/\S/);
    }
    const gitleaks = SECRET_PATTERNS.filter((p) => p.source.startsWith('gitleaks:')).length;
    expect(gitleaks).toBeGreaterThan(SECRET_PATTERNS.length / 2);
  });

  it('masks a sample of every kind', () => {
    for (const p of SECRET_PATTERNS) {
      expect(redactText(`value ${SECRET_SAMPLES[p.kind]} end`).count, p.kind).toBeGreaterThan(0);
    }
  });
});

describe('maskUrl: callback URLs in audit data and logs', () => {
  it.each([
    ['https://ci.example.com/hooks/countersign', 'https://ci.example.com/hooks/countersign'],
    ['http://127.0.0.1:8080/hook', 'http://127.0.0.1:8080/hook'],
    [
      `https://ci.example.com/hooks/${filler(24)}?token=${filler(20)}&job=42`,
      'https://ci.example.com/hooks/[redacted]?token=[redacted]&job=[redacted]',
    ],
    ['https://user:pw@ci.example.com/hook', 'https://[redacted]@ci.example.com/hook'],
    [`https://ci.example.com/hook#${filler(20)}`, 'https://ci.example.com/hook#[redacted]'],
    [`https://ci.example.com/${fake.github('ghp')}/done`, 'https://ci.example.com/[redacted]/done'],
    [
      'https://ci.example.com/v1/runs/123e4567-e89b-12d3-a456-426614174000',
      'https://ci.example.com/v1/runs/[redacted]',
    ],
    ['https://ci.example.com/hook?flag', 'https://ci.example.com/hook?flag'],
  ])('%s', (url, expected) => {
    expect(maskUrl(url)).toBe(expected);
  });

  it('masks what it can in text that is not a URL', () => {
    expect(maskUrl(`not a url ${fake.github('ghp')}`)).toBe('not a url ghp_…[redacted]');
  });
});
