import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fake } from '../support/fake-secrets.js';
import { type Harness, PEOPLE, requestBody, sqlRows, startHarness } from '../support/harness.js';
import { cardOf, click, waitFor } from '../support/slack-user.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

/** One realistic sample of each credential kind, and where in the request it travels. */
const secrets = {
  github: fake.github('ghp', 11),
  githubPat: fake.githubPat(12),
  gitlab: fake.gitlab(13),
  awsKeyId: fake.awsKeyId(14),
  awsSecret: fake.awsSecret(15),
  gcpApiKey: fake.gcpApiKey(16),
  slackBot: fake.slack('xoxb', 17),
  slackWebhook: fake.slackWebhook(18),
  stripe: fake.stripe('sk_live', 19),
  openai: fake.openaiProject(20),
  anthropic: fake.anthropic(21),
  npm: fake.npm(22),
  jwt: fake.jwt(23),
  azureKey: fake.azureKey(24),
  dbPassword: 'Tr0ub4dor-and-3',
  assignment: 'hunter2-but-longer',
  pemLine: fake.pemBody(3, 25)[1] ?? '',
};

/** Near-misses that must stay exactly as sent. */
const keep = [
  'password',
  'risk-free',
  '9f1c2ab3d4e5f60718293a4b5c6d7e8f90a1b2c3',
  '123e4567-e89b-12d3-a456-426614174000',
];

function body() {
  const pem = fake.pem('RSA PRIVATE KEY', 3, 25).split('\n');
  const diff = [
    'diff --git a/config/prod.env b/config/prod.env',
    '--- a/config/prod.env',
    '+++ b/config/prod.env',
    `@@ -1,3 +1,${5 + pem.length} @@`,
    ' APP_ENV=production',
    `-AWS_ACCESS_KEY_ID=${secrets.awsKeyId}`,
    `+AWS_SECRET_ACCESS_KEY=${secrets.awsSecret}`,
    `+DATABASE_URL=postgres://app:${secrets.dbPassword}@db.internal:5432/app`,
    `+STRIPE_KEY=${secrets.stripe}`,
    `+AZURE=DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${secrets.azureKey};EndpointSuffix=core.windows.net`,
    ...pem.map((l) => `+${l}`),
    ' LOG_LEVEL=info',
  ].join('\n');
  return requestBody({
    title: `Rotate ${secrets.github} for the deploy bot`,
    summary: `Old token ${secrets.githubPat}; gitlab ${secrets.gitlab}; password: ${secrets.assignment}. It is risk-free; commit 9f1c2ab3d4e5f60718293a4b5c6d7e8f90a1b2c3.`,
    context: {
      gcp: secrets.gcpApiKey,
      slack: secrets.slackBot,
      openai: secrets.openai,
      anthropic: secrets.anthropic,
      npmrc: `//registry.npmjs.org/:_authToken=${secrets.npm}`,
      session: secrets.jwt,
      note: 'password',
      trace: '123e4567-e89b-12d3-a456-426614174000',
    },
    links: [{ text: 'Alerts webhook', url: secrets.slackWebhook }],
    diff,
  });
}

describe('no secret ever reaches Slack or the database', () => {
  it('masks every credential kind before storing or posting, keeps near-misses, and counts them on the card', async () => {
    const res = await h.api.create(body());
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    expect(res.body.redactions).toBeGreaterThanOrEqual(Object.keys(secrets).length - 1);
    const card = await waitFor(() => cardOf(h, id), 'the card');
    expect(JSON.stringify(card.blocks)).toMatch(/values redacted/);
    const file = await waitFor(
      () => h.slack.files.find((f) => f.thread_ts === card.ts),
      'the full diff file',
    );
    expect(file.content.split('\n')).toHaveLength(String(body().diff).split('\n').length);
    await click(h, PEOPLE.bob.id, id, 'approve');
    await waitFor(async () => (await h.api.request(id)).body.status === 'approved', 'approval');
    await waitFor(() => h.slack.thread(card.ts).length >= 2, 'vote and outcome replies');

    const slackTraffic =
      JSON.stringify(h.slack.calls) + JSON.stringify(h.slack.messages) + JSON.stringify(h.slack.files);
    const apiAnswer = JSON.stringify((await h.api.request(id)).body);
    for (const [kind, value] of Object.entries(secrets)) {
      expect(value.length, kind).toBeGreaterThan(8);
      expect(slackTraffic.includes(value), `${kind} reached Slack`).toBe(false);
      expect(apiAnswer.includes(value), `${kind} in the API answer`).toBe(false);
    }
    for (const value of keep) expect(slackTraffic, value).toContain(value);

    await sqlRows(h.server, 'PRAGMA wal_checkpoint(TRUNCATE)');
    const files = [h.env.DATABASE_PATH, `${h.env.DATABASE_PATH}-wal`].filter(
      (f): f is string => !!f && existsSync(f),
    );
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    expect(bytes.length).toBeGreaterThan(0);
    for (const [kind, value] of Object.entries(secrets)) {
      expect(bytes.includes(Buffer.from(value)), `${kind} in the database file`).toBe(false);
    }
  });
});
