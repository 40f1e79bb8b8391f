import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resolver } from '../../src/egress/pinned-post.js';
import { createLogger } from '../../src/log.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { fake } from '../support/fake-secrets.js';
import { type Harness, PEOPLE, requestBody, sqlRows, startHarness } from '../support/harness.js';
import { cardOf, click, slashCommand, submitDeny, waitFor } from '../support/slack-user.js';

/**
 * Issue 13 item 15 through the real server: secrets in the reasons people and pipelines give (an
 * API cancel, the deny modal, an admin's /approvals cancel) are masked where they arrive, and a
 * callback_url holding a token never reaches the audit trail or the logs (delivered or given up).
 */
let h: Harness;
let receiver: CallbackReceiver;
const logs: string[] = [];
beforeAll(async () => {
  receiver = await new CallbackReceiver().start();
  // hooks.example.test resolves to loopback, which no entry names: refused at delivery.
  const callbackResolver: Resolver = async (hostname) => [
    { address: hostname === 'hooks.example.test' ? '127.0.0.1' : hostname, family: 4 },
  ];
  h = await startHarness({
    env: { COUNTERSIGN_ADMINS: PEOPLE.carol.id, COUNTERSIGN_CALLBACK_ALLOW: 'http://127.0.0.1,http://' },
    server: { callbackResolver, log: createLogger('debug', (line) => logs.push(line)) },
  });
});
afterAll(async () => {
  await h.stop();
  await receiver.stop();
});

const auditText = async () =>
  (await sqlRows<{ data: string }>(h.server, 'SELECT data FROM audit_events ORDER BY seq'))
    .map((r) => r.data)
    .join('\n');

async function pending(over: Record<string, unknown> = {}): Promise<string> {
  const res = await h.api.create(requestBody(over));
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  await waitFor(() => cardOf(h, id), 'the card');
  return id;
}

/** Everything the secret must not be in: the answer, Slack, the audit trail, the logs. */
async function expectNowhere(secret: string, answer: unknown) {
  expect(JSON.stringify(answer)).not.toContain(secret);
  expect(JSON.stringify(h.slack.calls)).not.toContain(secret);
  expect(await auditText()).not.toContain(secret);
  expect(logs.join('\n')).not.toContain(secret);
}

describe('reasons are redacted where they arrive', () => {
  it('a cancel reason sent to the API', async () => {
    const secret = fake.github('ghp', 41);
    const id = await pending();
    const res = await h.api.cancel(id, `rolled back, token was ${secret}`);
    expect(res.status).toBe(200);
    expect(res.body.reason).toMatch(/^rolled back, token was /);
    await waitFor(() => h.slack.thread(cardOf(h, id)?.ts ?? '').length >= 1, 'the outcome reply');
    await expectNowhere(secret, (await h.api.request(id)).body);
  });

  it('a deny reason typed in the modal', async () => {
    const secret = fake.slack('xoxb', 42);
    const id = await pending();
    await click(h, PEOPLE.bob.id, id, 'deny');
    await submitDeny(h, PEOPLE.bob.id, id, `leaks ${secret} in the diff`);
    const denied = await waitFor(async () => {
      const r = await h.api.request(id);
      return r.body.status === 'denied' ? r.body : null;
    }, 'the denial');
    expect(denied.reason).toMatch(/^leaks /);
    await waitFor(() => h.slack.thread(cardOf(h, id)?.ts ?? '').length >= 2, 'the replies');
    await expectNowhere(secret, denied);
  });

  it("an admin's /approvals cancel reason", async () => {
    const secret = `password=${'Hunter2-and-more'}`;
    const id = await pending();
    const reply = await slashCommand(h, PEOPLE.carol.id, `cancel ${id} ops asked, ${secret}`);
    expect(reply.status).toBe(200);
    const cancelled = await waitFor(async () => {
      const r = await h.api.request(id);
      return r.body.status === 'cancelled' ? r.body : null;
    }, 'the cancel');
    expect(cancelled.reason).toMatch(/^ops asked, password=/);
    await expectNowhere('Hunter2-and-more', cancelled);
  });
});

describe('a callback_url holding a token', () => {
  it('is delivered to, yet kept out of the audit trail and the logs', async () => {
    const token = fake.stripe('sk_live', 43);
    const url = `${receiver.url}/hook?token=${token}`;
    const id = await pending({ callback_url: url });
    expect((await h.api.cancel(id, 'done')).status).toBe(200);
    // The receiver files a path with a query under `elsewhere`.
    const delivered = await waitFor(
      () => receiver.elsewhere.find((d) => d.path === `/hook?token=${token}`),
      'a delivered callback',
    );
    expect(delivered.body).toContain(id);
    expect(await auditText()).not.toContain(token);
    expect(logs.join('\n')).not.toContain(token);
    expect(logs.length).toBeGreaterThan(0);
  });

  it('is kept out of them when the address is refused and the callback given up', async () => {
    const token = fake.npm(44);
    const id = await pending({ callback_url: `http://hooks.example.test/hook?token=${token}` });
    expect((await h.api.cancel(id, 'done')).status).toBe(200);
    const givenUp = async () =>
      (
        await sqlRows<{ data: string }>(
          h.server,
          `SELECT data FROM audit_events WHERE request_id = ? AND type = 'callback.given_up'`,
          id,
        )
      )[0]?.data;
    const data = JSON.parse(await waitFor(givenUp, 'callback.given_up')) as { url: string };
    expect(data.url).toMatch(/^http:\/\/hooks\.example\.test\/hook\?token=/);
    expect(await auditText()).not.toContain(token);
    expect(logs.join('\n')).not.toContain(token);
  });
});
