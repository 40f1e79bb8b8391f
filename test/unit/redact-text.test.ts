import { describe, expect, it } from 'vitest';
import { redactText } from '../../src/core/redact.js';
import { SECRET_PATTERNS } from '../../src/core/secret-patterns.js';
import { base64, fake, filler, upper } from '../support/fake-secrets.js';

const t = (s: string) => redactText(s).text;

describe('redactText: each kind of credential', () => {
  const cases: [string, string, string][] = [
    ['AWS access key ID', `aws_access_key_id = ${fake.awsKeyId()}`, 'aws_access_key_id = AKIA…[redacted]'],
    ['AWS temporary key ID', `key ${fake.awsTempKeyId()}.`, 'key ASIA…[redacted].'],
    ["AWS's documented example key", `AKIA${'IOSFODNN7EXAMPLE'}`, 'AKIA…[redacted]'],
    [
      'AWS secret key (ini)',
      `aws_secret_access_key = ${fake.awsSecret()}`,
      'aws_secret_access_key = [redacted]',
    ],
    ['AWS secret key (env)', `AWS_SECRET_ACCESS_KEY=${fake.awsSecret()}`, 'AWS_SECRET_ACCESS_KEY=[redacted]'],
    [
      'AWS secret key (sts JSON)',
      `"SecretAccessKey": "${fake.awsSecret()}",`,
      '"SecretAccessKey": "[redacted]",',
    ],
    [
      'GCP API key',
      `https://maps.googleapis.com/x?key=${fake.gcpApiKey()}&q=1`,
      'https://maps.googleapis.com/x?key=AIza…[redacted]&q=1',
    ],
    [
      'GCP service-account private key (JSON, escaped newlines)',
      `{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n${base64(64)}\\n${base64(30, 2)}=\\n-----END PRIVATE KEY-----\\n", "client_email": "ci@p.iam.gserviceaccount.com"}`,
      '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n[redacted private key]\\n-----END PRIVATE KEY-----\\n", "client_email": "ci@p.iam.gserviceaccount.com"}',
    ],
    [
      'Azure storage connection string',
      `DefaultEndpointsProtocol=https;AccountName=prodlogs;AccountKey=${fake.azureKey()};EndpointSuffix=core.windows.net`,
      'DefaultEndpointsProtocol=https;AccountName=prodlogs;AccountKey=[redacted];EndpointSuffix=core.windows.net',
    ],
    [
      'Azure Service Bus connection string',
      `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=${base64(43)}=`,
      'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=[redacted]',
    ],
    [
      'GitHub ghp_',
      `git push https://${fake.github('ghp')}@github.com/o/r`,
      'git push https://ghp_…[redacted]@github.com/o/r',
    ],
    ['GitHub gho_', fake.github('gho'), 'gho_…[redacted]'],
    ['GitHub ghu_', fake.github('ghu'), 'ghu_…[redacted]'],
    [
      'GitHub ghs_ in a URL password',
      `https://x-access-token:${fake.github('ghs')}@github.com/o/r.git`,
      'https://x-access-token:ghs_…[redacted]@github.com/o/r.git',
    ],
    ['GitHub ghr_', fake.github('ghr'), 'ghr_…[redacted]'],
    ['GitHub fine-grained PAT', `GH_TOKEN=${fake.githubPat()}`, 'GH_TOKEN=github_pat_…[redacted]'],
    ['GitLab PAT', `PRIVATE-TOKEN: ${fake.gitlab()}`, 'PRIVATE-TOKEN: glpat-…[redacted]'],
    ['Slack bot token', `SLACK_BOT_TOKEN=${fake.slack('xoxb')}`, 'SLACK_BOT_TOKEN=xoxb-…[redacted]'],
    ['Slack user token', fake.slack('xoxp'), 'xoxp-…[redacted]'],
    ['Slack workspace token', fake.slack('xoxa'), 'xoxa-…[redacted]'],
    ['Slack refresh token', fake.slack('xoxr'), 'xoxr-…[redacted]'],
    ['Slack session token', fake.slack('xoxs'), 'xoxs-…[redacted]'],
    ['Slack app-level token', fake.slackApp(), 'xapp-…[redacted]'],
    [
      'Slack webhook',
      `curl -X POST ${fake.slackWebhook()} -d @msg.json`,
      'curl -X POST https://hooks.slack.com/services/[redacted] -d @msg.json',
    ],
    ['Stripe live secret key', fake.stripe('sk_live'), 'sk_live_…[redacted]'],
    ['Stripe restricted key', fake.stripe('rk_live'), 'rk_live_…[redacted]'],
    ['Stripe test key', fake.stripe('sk_test'), 'sk_test_…[redacted]'],
    ['OpenAI legacy key', `OPENAI_API_KEY="${fake.openai()}"`, 'OPENAI_API_KEY="sk-…[redacted]"'],
    ['OpenAI project key', `key ${fake.openaiProject()}`, 'key sk-proj-…[redacted]'],
    ['Anthropic key', `x-api-key: ${fake.anthropic()}`, 'x-api-key: sk-ant-api03-…[redacted]'],
    [
      'npm token',
      `//registry.npmjs.org/:_authToken=${fake.npm()}`,
      '//registry.npmjs.org/:_authToken=npm_…[redacted]',
    ],
    [
      'Standard Webhooks secret',
      `COUNTERSIGN_CLIENTS=ci=${fake.webhookSecret()}`,
      'COUNTERSIGN_CLIENTS=ci=whsec_…[redacted]',
    ],
    ['Vault token', `VAULT_TOKEN=${fake.vault()}`, 'VAULT_TOKEN=hvs.…[redacted]'],
    ['SendGrid key', fake.sendgrid(), 'SG.…[redacted]'],
    ['JWT', `cookie: session=${fake.jwt()}; Path=/`, 'cookie: session=eyJ…[redacted]; Path=/'],
    [
      'postgres URL',
      'postgres://user:pa55w0rd@db.internal:5432/app',
      'postgres://user:[redacted]@db.internal:5432/app',
    ],
    [
      'postgresql URL',
      'DATABASE_URL=postgresql://app:s3cr3t%21@10.0.0.5/app?sslmode=require',
      'DATABASE_URL=postgresql://app:[redacted]@10.0.0.5/app?sslmode=require',
    ],
    ['mysql URL', 'mysql://root:hunter2@localhost:3306/shop', 'mysql://root:[redacted]@localhost:3306/shop'],
    [
      'mongodb URL',
      'mongodb://admin:Tr0ub4dor@mongo-0,mongo-1/db?replicaSet=rs0',
      'mongodb://admin:[redacted]@mongo-0,mongo-1/db?replicaSet=rs0',
    ],
    [
      'mongodb+srv URL',
      'mongodb+srv://svc:xyzzy42@cluster0.ab1cd.mongodb.net/prod',
      'mongodb+srv://svc:[redacted]@cluster0.ab1cd.mongodb.net/prod',
    ],
    [
      'redis URL without user',
      'REDIS_URL=redis://:c4che-pass@cache:6379/0',
      'REDIS_URL=redis://:[redacted]@cache:6379/0',
    ],
    [
      'rediss URL',
      'rediss://default:AbC123@redis.example.com:6380',
      'rediss://default:[redacted]@redis.example.com:6380',
    ],
    ['amqp URL', 'amqp://guest:rabbit-pw@mq:5672/vhost', 'amqp://guest:[redacted]@mq:5672/vhost'],
    ['amqps URL', 'amqps://svc:rabbit-pw2@mq.example.com', 'amqps://svc:[redacted]@mq.example.com'],
    [
      'https URL with credentials',
      'https://user:password@example.com/path',
      'https://user:[redacted]@example.com/path',
    ],
    ['password= assignment', 'password=hunter2', 'password=[redacted]'],
    ['secret: assignment', 'client_secret: 9f8e7d6c5b4a', 'client_secret: [redacted]'],
    [
      'api_key= assignment',
      'curl "https://api.example.com/v1?api_key=abc123def&limit=5"',
      'curl "https://api.example.com/v1?api_key=[redacted]&limit=5"',
    ],
    ['token: assignment', 'token: tkn-55-aa', 'token: [redacted]'],
    ['env file', 'DB_PASSWORD=correct-horse\nDB_USER=app', 'DB_PASSWORD=[redacted]\nDB_USER=app'],
    ['quoted value with spaces', 'DB_PASSWORD: "correct horse battery"', 'DB_PASSWORD: "[redacted]"'],
    ['single-quoted value', "password = 'it is me'", "password = '[redacted]'"],
    [
      'JSON',
      '{"user": "bob", "password": "hunter2", "port": 5432}',
      '{"user": "bob", "password": "[redacted]", "port": 5432}',
    ],
    ['escaped JSON', '{\\"password\\":\\"hunter2\\"}', '{\\"password\\":\\"[redacted]\\"}'],
    ['camelCase key', 'const apiKey = "k-123-xyz";', 'const apiKey = "[redacted]";'],
    ['Go := assignment', 'token := "abc.def"', 'token := "[redacted]"'],
    ['Ruby hash', ':password => "hunter2"', ':password => "[redacted]"'],
    [
      'ODBC connection string',
      'Server=db;Uid=sa;Pwd=Sup3r!;Database=x',
      'Server=db;Uid=sa;Pwd=[redacted];Database=x',
    ],
    ['Authorization header', 'Authorization: Basic dXNlcjpwYXNz', 'Authorization: Basic [redacted]'],
    [
      'bearer token',
      'curl -H "Authorization: Bearer abc123def456ghi"',
      'curl -H "Authorization: Bearer [redacted]"',
    ],
    [
      'command-line flag',
      'mysql --user root --password hunter2 shop',
      'mysql --user root --password [redacted] shop',
    ],
    [
      'XML element',
      '<add key="x"/><password>hunter2</password>',
      '<add key="x"/><password>[redacted]</password>',
    ],
    [
      'AWS presigned URL',
      `https://b.s3.amazonaws.com/k?X-Amz-Credential=x&X-Amz-Signature=${filler(64, 3).toLowerCase()}`,
      'https://b.s3.amazonaws.com/k?X-Amz-Credential=x&X-Amz-Signature=[redacted]',
    ],
    [
      'Azure SAS URL',
      `https://a.blob.core.windows.net/c/b?sv=2022-11-02&sig=${base64(43)}%3D`,
      'https://a.blob.core.windows.net/c/b?sv=2022-11-02&sig=[redacted]',
    ],
  ];

  it.each(cases)('%s', (_kind, input, expected) => {
    expect(redactText(input)).toEqual({ text: expected, count: 1 });
  });

  it('masks a multi-line PEM key line by line, keeping the BEGIN and END lines', () => {
    for (const label of [
      'RSA PRIVATE KEY',
      'PRIVATE KEY',
      'EC PRIVATE KEY',
      'OPENSSH PRIVATE KEY',
      'ENCRYPTED PRIVATE KEY',
    ]) {
      const key = fake.pem(label);
      const { text, count } = redactText(`key:\n${key}\ndone`);
      expect(text).toBe(
        [
          'key:',
          `-----BEGIN ${label}-----`,
          ...Array.from({ length: 5 }, () => '[redacted private key line]'),
          `-----END ${label}-----`,
          'done',
        ].join('\n'),
      );
      expect(count).toBe(1);
    }
  });

  it('masks an indented key in YAML, an encrypted key with armor headers, and a PGP key', () => {
    const body = fake.pemBody(2);
    const yaml = [
      'tls:',
      '  key: |',
      '    -----BEGIN EC PRIVATE KEY-----',
      ...body.map((l) => `    ${l}`),
      '    -----END EC PRIVATE KEY-----',
    ];
    expect(t(yaml.join('\n')).split('\n')).toEqual([
      'tls:',
      '  key: |',
      '    -----BEGIN EC PRIVATE KEY-----',
      '    [redacted private key line]',
      '    [redacted private key line]',
      '    [redacted private key line]',
      '    -----END EC PRIVATE KEY-----',
    ]);
    const encrypted = [
      '-----BEGIN RSA PRIVATE KEY-----',
      'Proc-Type: 4,ENCRYPTED',
      'DEK-Info: AES-128-CBC,0A1B2C3D',
      '',
      ...body,
      '-----END RSA PRIVATE KEY-----',
    ];
    const masked = t(encrypted.join('\n')).split('\n');
    expect(masked.slice(4, 7)).toEqual(Array(3).fill('[redacted private key line]'));
    expect(masked.join('\n')).not.toContain(body[0]);
    const pgp = [
      '-----BEGIN PGP PRIVATE KEY BLOCK-----',
      'Comment: test',
      '',
      ...body,
      '=AbCd',
      '-----END PGP PRIVATE KEY BLOCK-----',
    ];
    expect(t(pgp.join('\n'))).not.toContain(body[1]);
  });

  it('masks a truncated key up to the first line that is not key material', () => {
    const body = fake.pemBody(2);
    const text = t(['-----BEGIN PRIVATE KEY-----', ...body, 'and then the paste stopped.'].join('\n'));
    expect(text.split('\n')).toEqual([
      '-----BEGIN PRIVATE KEY-----',
      '[redacted private key line]',
      '[redacted private key line]',
      '[redacted private key line]',
      'and then the paste stopped.',
    ]);
  });

  it('masks a key written on one line with spaces', () => {
    const line = `KEY="-----BEGIN OPENSSH PRIVATE KEY----- ${base64(70)} ${base64(20, 2)} -----END OPENSSH PRIVATE KEY-----"`;
    expect(t(line)).toBe(
      'KEY="-----BEGIN OPENSSH PRIVATE KEY----- [redacted private key] -----END OPENSSH PRIVATE KEY-----"',
    );
  });
});

describe('redactText: near-misses stay untouched', () => {
  const untouched = [
    'Please enter your password.',
    'password=',
    'password: ',
    'password:\n  rotate: weekly',
    'The password is stored in Vault.',
    'the AKIA prefix marks an AWS access key',
    'AKIA1234 is too short',
    'request 123e4567-e89b-12d3-a456-426614174000',
    'commit 3f786850e387550fdab836ed7e6dc881de23001b',
    'sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    'hello in base64 is aGVsbG8gd29ybGQ=, and a longer one: TG9yZW0gaXBzdW0gZG9sb3Igc2l0IGFtZXQ=',
    'a risk-free change',
    'a task-oriented sk-learn run on disk-backed storage: risk-assessment-for-the-quarter-2024',
    'Set SLACK_BOT_TOKEN to your bot token (xoxb-...).',
    'ghp_short is not a token',
    'token_count: 5',
    'max_tokens: 4096',
    'password_policy: strict',
    'secretName: db-creds',
    'kind: Secret',
    `password: ${'$'}{DB_PASSWORD}`,
    'password: "{{ .Values.db.password }}"',
    'password: <your password here>',
    'password: ********',
    'token: string',
    'function login(user: string, password: string): Promise<void>',
    'if (token === undefined) return;',
    'if (token == null) return;',
    'api_key = os.environ["API_KEY"]',
    'password = getpass()',
    'token: config.auth.token',
    'password: !vault |',
    'export GITHUB_TOKEN=$(gh auth token)',
    'curl -H "Authorization: Bearer $TOKEN" https://api.example.com',
    'postgres://db.internal:5432/app',
    'postgres://db.internal:5432/app?opt=a@b',
    'https://user@example.com/',
    'https://example.com/@scope/pkg',
    'mailto:someone@example.com',
    `pk_live_${filler(24)}`,
    'the Bearer of bad news',
    '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----',
    '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----',
    '-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----',
    'eyJ alone, and eyJhbGciOiJIUzI1NiJ9 without a payload',
    'whsec_ is the prefix of webhook secrets',
  ];

  it.each(untouched)('%j', (input) => {
    expect(redactText(input)).toEqual({ text: input, count: 0 });
  });
});

describe('redactText: counting and idempotence', () => {
  it('counts distinct secret values', () => {
    const a = fake.github('ghp', 1);
    const b = fake.github('ghp', 2);
    expect(redactText(`${a} ${a} token=${a}`).count).toBe(1);
    expect(redactText(`${a} ${b}`).count).toBe(2);
    expect(redactText(`password=x1 password=x1 secret=x2 ${fake.awsKeyId()}`).count).toBe(3);
    expect(redactText('').count).toBe(0);
  });

  it('masks the whole quoted value when a token sits inside it', () => {
    expect(redactText(`secret: "prefix ${fake.github('ghp')}"`)).toEqual({
      text: 'secret: "[redacted]"',
      count: 1,
    });
  });

  it('leaves already-redacted text alone', () => {
    const inputs = [
      `token: ${fake.github('ghp')} postgres://u:p4ss@h/db ${fake.pem()} password=x AKIA${upper(16)} ${fake.jwt()}`,
      `{"private_key": "-----BEGIN PRIVATE KEY-----\\n${base64(64)}\\n-----END PRIVATE KEY-----\\n"}`,
    ];
    for (const input of inputs) {
      const once = redactText(input);
      expect(once.count).toBeGreaterThan(0);
      expect(redactText(once.text)).toEqual({ text: once.text, count: 0 });
    }
  });

  it('keeps a link usable as a URL', () => {
    for (const url of [
      'https://user:password@example.com/x',
      `https://example.com/x?token=${filler(20)}`,
      fake.slackWebhook(),
    ]) {
      expect(() => new URL(t(url))).not.toThrow();
      expect(t(url)).not.toBe(url);
    }
  });

  it('gives every pattern a kind, a global+indices regex and a marker', () => {
    const kinds = SECRET_PATTERNS.map((p) => p.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
    for (const p of SECRET_PATTERNS) {
      expect(p.regex.flags).toContain('g');
      expect(p.regex.flags).toContain('d');
      expect(p.marker).toMatch(/\[redacted/);
    }
  });

  it('finishes on large and adversarial inputs (1 MiB each)', () => {
    const mib = 1 << 20;
    const inputs = [
      'a'.repeat(mib),
      'password='.repeat(mib / 9),
      '-----BEGIN PRIVATE KEY-----'.repeat(mib / 27),
      `-----BEGIN PRIVATE KEY-----${' '.repeat(mib)}`,
      'http://a:'.repeat(mib / 9),
      'eyJaaaaa.'.repeat(mib / 9),
      'sk-'.repeat(mib / 3),
      `${fake.github('ghp')} `.repeat(mib / 41),
    ];
    for (const input of inputs) {
      const { text } = redactText(input);
      expect(typeof text).toBe('string');
    }
  });
});
