import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMessage } from '../../blocks/limits.js';
import { type Harness, PEOPLE, requestBody, startHarness } from '../support/harness.js';
import { cardOf, click, waitFor } from '../support/slack-user.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

function bigDiff(lines: number): string {
  const out = [
    'diff --git a/migrations/big.sql b/migrations/big.sql',
    '--- a/migrations/big.sql',
    '+++ b/migrations/big.sql',
  ];
  out.push(`@@ -1,${lines / 2} +1,${lines / 2} @@`);
  for (let i = 0; i < lines / 2; i++) {
    out.push(`-UPDATE accounts SET tier = 'free' WHERE id = ${i};`);
    out.push(`+UPDATE accounts SET tier = 'pro' WHERE id = ${i};`);
  }
  return `${out.join('\n')}\n`;
}

describe('cards a reviewer can decide from', () => {
  it('posts a request with a 6,000-line diff within Slack’s limits and makes the full diff reachable', async () => {
    const diff = bigDiff(6000);
    const res = await h.api.create(requestBody({ diff, title: 'Upgrade 3,000 accounts' }));
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    const card = await waitFor(() => cardOf(h, id), 'the card (the fake Slack rejects over-limit blocks)');
    expect(checkMessage(card)).toEqual([]);
    const text = JSON.stringify(card.blocks);
    expect(text).toContain('1 file changed');
    expect(text).toMatch(/more lines/);
    const file = await waitFor(
      () => h.slack.files.find((f) => f.thread_ts === card.ts),
      'the full diff in the thread',
    );
    expect(file.channel).toBe(card.channel);
    expect(file.content).toBe(diff);
  });

  it('renders a request with every optional field, and one with none, and keeps them valid after a vote', async () => {
    const full = await h.api.create(
      requestBody({
        summary: '*Why*: quarterly analytics refresh.\nRows: ~2M',
        context: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`key_${i}`, `value ${i}`])),
        links: [
          { text: 'Runbook', url: 'https://runbooks.example.com/export' },
          { text: 'Ticket', url: 'https://tickets.example.com/T-1' },
        ],
        diff: bigDiff(10),
        min_approvals: 2,
      }),
    );
    const bare = await h.api.create({
      action: 'iam.role.attach',
      title: 'x',
      requester: { email: 'nobody@example.com' },
    });
    for (const res of [full, bare]) {
      const id = res.body.id as string;
      const card = await waitFor(() => cardOf(h, id), 'the card');
      expect(checkMessage(card)).toEqual([]);
    }
    const id = full.body.id as string;
    await click(h, PEOPLE.bob.id, id, 'approve');
    const card = cardOf(h, id);
    await waitFor(
      () => card && card.updates > 0 && JSON.stringify(card.blocks).includes('1 of 2'),
      'progress on the card',
    );
  });

  it('renders hostile text inert in the posted card', async () => {
    const res = await h.api.create(
      requestBody({
        title: 'Hi <!channel> <@U0BOSS>',
        summary: 'See <https://evil.example|bank.example> <!here> <!everyone>',
      }),
    );
    const card = await waitFor(() => cardOf(h, res.body.id as string), 'the card');
    const json = JSON.stringify(card);
    for (const bad of [
      '<!channel>',
      '<!here>',
      '<!everyone>',
      '<@U0BOSS>',
      '<https://evil.example|bank.example>',
    ]) {
      expect(json).not.toContain(bad);
    }
  });
});
