import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL, type Harness, PEOPLE, requestBody, startHarness } from '../support/harness.js';
import { buttonsOf, cardOf, click, waitFor } from '../support/slack-user.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('the spine: signed request → card → click → decision on disk', () => {
  it('walks the whole path', async () => {
    const hh = await startHarness();
    h = hh;
    const created = await hh.api.create(requestBody());
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('pending');
    const id = created.body.id as string;
    expect(id).toMatch(/^req_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(created.body.payload_sha256).toMatch(/^[0-9a-f]{64}$/);

    const card = await waitFor(() => cardOf(hh, id), 'the card to be posted');
    expect(card.channel).toBe(CHANNEL);
    expect(buttonsOf(card.blocks)).toEqual(['approve', 'deny']);

    const res = await click(hh, PEOPLE.bob.id, id, 'approve');
    expect(res.status).toBe(200);

    const got = await waitFor(async () => {
      const r = await hh.api.request(id);
      return r?.body.status === 'approved' ? r : null;
    }, 'approval');
    expect(got.body.votes).toEqual([
      expect.objectContaining({ user_id: PEOPLE.bob.id, decision: 'approve', reason: null }),
    ]);
    expect(got.body.decided_at).toEqual(expect.any(String));

    await waitFor(
      () => card.updates > 0 && buttonsOf(card.blocks).length === 0,
      'the card to lose its buttons',
    );
    expect(hh.slack.cards()).toHaveLength(1);
    const thread = await waitFor(
      () => (hh.slack.thread(card.ts).length > 0 ? hh.slack.thread(card.ts) : null),
      'a thread reply',
    );
    expect(thread.map((m) => m.text).join('\n')).toMatch(/approved/i);
  });
});
