import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactDiff, redactText } from '../../src/core/redact.js';
import { base64, fake } from '../support/fake-secrets.js';

const lines = (...l: string[]) => l.join('\n');

function expectSameShape(before: string, after: string): void {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b.length).toBe(a.length);
  b.forEach((line, i) => {
    const original = a[i] as string;
    expect(line.slice(0, 1)).toBe(original.slice(0, 1));
    expect(line.endsWith('\r')).toBe(original.endsWith('\r'));
    const hunk = /^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(original);
    if (hunk) expect(line.startsWith(hunk[0])).toBe(true);
  });
}

describe('redactDiff', () => {
  it('masks an added private key line by line and keeps the diff valid', () => {
    const body = fake.pemBody(3);
    const diff = lines(
      'diff --git a/deploy/tls.key b/deploy/tls.key',
      'new file mode 100644',
      'index 0000000..e69de29',
      '--- /dev/null',
      '+++ b/deploy/tls.key',
      '@@ -0,0 +1,6 @@',
      '+-----BEGIN RSA PRIVATE KEY-----',
      ...body.map((l) => `+${l}`),
      '+-----END RSA PRIVATE KEY-----',
      '\\ No newline at end of file',
    );
    const { text, count } = redactDiff(diff);
    expectSameShape(diff, text);
    expect(count).toBe(1);
    expect(text).toBe(
      lines(
        'diff --git a/deploy/tls.key b/deploy/tls.key',
        'new file mode 100644',
        'index 0000000..e69de29',
        '--- /dev/null',
        '+++ b/deploy/tls.key',
        '@@ -0,0 +1,6 @@',
        '+-----BEGIN RSA PRIVATE KEY-----',
        '+[redacted private key line]',
        '+[redacted private key line]',
        '+[redacted private key line]',
        '+[redacted private key line]',
        '+-----END RSA PRIVATE KEY-----',
        '\\ No newline at end of file',
      ),
    );
  });

  it('masks a key replaced in place (removed and added lines) and counts both keys', () => {
    const oldBody = fake.pemBody(2, 10);
    const newBody = fake.pemBody(2, 20);
    const diff = lines(
      '@@ -1,5 +1,5 @@',
      ' -----BEGIN PRIVATE KEY-----',
      ...oldBody.map((l) => `-${l}`),
      ...newBody.map((l) => `+${l}`),
      ' -----END PRIVATE KEY-----',
    );
    const { text, count } = redactDiff(diff);
    expectSameShape(diff, text);
    expect(text.split('\n').slice(1)).toEqual([
      ' -----BEGIN PRIVATE KEY-----',
      '-[redacted private key line]',
      '-[redacted private key line]',
      '-[redacted private key line]',
      '+[redacted private key line]',
      '+[redacted private key line]',
      '+[redacted private key line]',
      ' -----END PRIVATE KEY-----',
    ]);
    expect(count).toBe(2); // the old key and the new one
  });

  it('masks an indented key inside a YAML file in a diff', () => {
    const body = fake.pemBody(1);
    const diff = lines(
      '@@ -3,2 +3,6 @@ spec:',
      '   tls:',
      '+    key: |',
      '+      -----BEGIN EC PRIVATE KEY-----',
      ...body.map((l) => `+      ${l}`),
      '+      -----END EC PRIVATE KEY-----',
    );
    const { text } = redactDiff(diff);
    expectSameShape(diff, text);
    expect(text.split('\n')[4]).toBe('+      [redacted private key line]');
  });

  it('masks 64-column key lines when the BEGIN line is outside the hunk', () => {
    const body = fake.pemBody(4);
    const diff = lines(
      '@@ -10,6 +10,6 @@',
      ` ${body[0]}`,
      `-${body[1]}`,
      `+${body[2]}`,
      ` ${body[3]}`,
      ` ${body[4]}`,
      ' -----END RSA PRIVATE KEY-----',
    );
    const { text, count } = redactDiff(diff);
    expectSameShape(diff, text);
    for (const line of body) expect(text).not.toContain(line);
    expect(count).toBe(2); // the key before and after the change
  });

  it('leaves certificates and a single 64-column line alone', () => {
    const cert = lines(
      '+-----BEGIN CERTIFICATE-----',
      ...fake.pemBody(2).map((l) => `+${l}`),
      '+-----END CERTIFICATE-----',
    );
    expect(redactDiff(cert)).toEqual({ text: cert, count: 0 });
    const single = lines(' const digest =', `+  '${base64(64)}';`);
    expect(redactDiff(single).count).toBe(0);
  });

  it('masks single-line secrets and keeps every first character', () => {
    const token = fake.github('ghp');
    const diff = lines(
      'diff --git a/.env b/.env',
      '--- a/.env',
      '+++ b/.env',
      `@@ -1,4 +1,4 @@ password=${'hunter2'}`,
      ' APP_ENV=production',
      '-DB_PASSWORD=old-pass',
      '+DB_PASSWORD=new-pass',
      `+GITHUB_TOKEN=${token}`,
      ` DATABASE_URL=postgres://app:pg-pass@db:5432/app`,
    );
    const { text, count } = redactDiff(diff);
    expectSameShape(diff, text);
    expect(text).toBe(
      lines(
        'diff --git a/.env b/.env',
        '--- a/.env',
        '+++ b/.env',
        '@@ -1,4 +1,4 @@ password=[redacted]',
        ' APP_ENV=production',
        '-DB_PASSWORD=[redacted]',
        '+DB_PASSWORD=[redacted]',
        '+GITHUB_TOKEN=ghp_…[redacted]',
        ' DATABASE_URL=postgres://app:[redacted]@db:5432/app',
      ),
    );
    expect(count).toBe(5);
  });

  it('keeps the first character when a secret starts in column 0', () => {
    const token = fake.github('ghp');
    const { text } = redactDiff(lines(token, `${fake.jwt()} x`));
    expect(text).toBe(lines('ghp_…[redacted]', 'eyJ…[redacted] x'));
    const bare = redactDiff('hunter2-is-not-detectable\npassword=abc');
    expect(bare.text).toBe('hunter2-is-not-detectable\npassword=[redacted]');
  });

  it('keeps CRLF line endings', () => {
    const diff = `@@ -1 +1 @@\r\n-password=a1\r\n+password=b2\r\n`;
    const { text } = redactDiff(diff);
    expect(text).toBe(`@@ -1 +1 @@\r\n-password=[redacted]\r\n+password=[redacted]\r\n`);
  });

  it('masks a one-line JSON private key inside a diff', () => {
    const diff = lines(
      '@@ -1,3 +1,3 @@',
      ' {',
      `+  "private_key": "-----BEGIN PRIVATE KEY-----\\n${base64(64)}\\n-----END PRIVATE KEY-----\\n",`,
      ' }',
    );
    const { text, count } = redactDiff(diff);
    expectSameShape(diff, text);
    expect(text.split('\n')[2]).toBe(
      '+  "private_key": "-----BEGIN PRIVATE KEY-----\\n[redacted private key]\\n-----END PRIVATE KEY-----\\n",',
    );
    expect(count).toBe(1);
  });

  it('handles empty input and input without secrets', () => {
    expect(redactDiff('')).toEqual({ text: '', count: 0 });
    const plain = lines('diff --git a/x b/x', '@@ -1 +1 @@', '-a', '+b', '');
    expect(redactDiff(plain)).toEqual({ text: plain, count: 0 });
  });

  it('keeps the shape of any diff (property)', () => {
    const token = fake.github('ghp');
    const body = fake.pemBody(2);
    const fragments = [
      'const x = 1;',
      `token: ${token}`,
      'password=hunter2',
      `postgres://u:pw@h/db`,
      '-----BEGIN RSA PRIVATE KEY-----',
      '-----END RSA PRIVATE KEY-----',
      '-----BEGIN CERTIFICATE-----',
      ...body,
      '',
      '   ',
      `"private_key": "-----BEGIN PRIVATE KEY-----\\n${body[0]}\\n-----END PRIVATE KEY-----"`,
      `${fake.jwt()}`,
      'Authorization: Bearer abc123def456',
      '@@ -1,2 +1,2 @@ token: abc',
    ];
    const line = fc.oneof(
      fc
        .tuple(fc.constantFrom(' ', '+', '-'), fc.constantFrom(...fragments), fc.constantFrom('', '\r'))
        .map(([a, b, c]) => `${a}${b}${c}`),
      fc.constantFrom(
        '@@ -1,3 +1,4 @@',
        '@@ -10 +10,2 @@ function f(password: x1)',
        'diff --git a/k b/k',
        '\\ No newline at end of file',
      ),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), (diffLines) => {
        const diff = diffLines.join('\n');
        const { text } = redactDiff(diff);
        expectSameShape(diff, text);
        expect(text).not.toContain(token.slice(4));
        expect(redactDiff(text)).toEqual({ text, count: 0 });
      }),
      { numRuns: 300 },
    );
  });

  it('finishes on a 1 MiB diff', () => {
    const hunk = lines(
      '@@ -1,6 +1,6 @@',
      ' import { connect } from "./db";',
      `-const url = "postgres://app:old@db/app";`,
      `+const url = process.env.DATABASE_URL;`,
      '+const key = "-----BEGIN PRIVATE KEY-----";',
      ...fake.pemBody(2).map((l) => `+${l}`),
      ' export default connect(url);',
      '',
    );
    const diff = hunk.repeat(Math.ceil((1 << 20) / hunk.length));
    const { text, count } = redactDiff(diff);
    expect(text.split('\n').length).toBe(diff.split('\n').length);
    expect(count).toBeGreaterThan(0);
    expect(redactText(diff).count).toBeGreaterThan(0);
  });
});
