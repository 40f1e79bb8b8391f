import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkModal } from '../../blocks/limits.js';
import {
  auditRefusals,
  type Harness,
  PEOPLE,
  requestBody,
  sqlValue,
  startHarness,
} from '../support/harness.js';
import {
  buttonsOf,
  cardOf,
  clickFromHome,
  nextHome,
  openHome,
  submitDeny,
  textOf,
  waitFor,
} from '../support/slack-user.js';

const { alice, aliceAlt, bob, carol, dave, guest } = PEOPLE;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { COUNTERSIGN_ADMINS: 'SADMINS' } });
  h.slack.groups.set('SADMINS', [dave.id]);
  h.slack.groups.set('SDBA', [carol.id, dave.id]);
});
afterAll(() => h.stop());

async function create(over: Record<string, unknown> = {}): Promise<string> {
  const res = await h.api.create(requestBody(over));
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  await waitFor(
    async () => cardOf(h, id) && (await h.server.approvals.requests.get(id))?.slackUrl,
    'the card',
  );
  return id;
}

async function status(id: string) {
  return (await h.api.request(id)).body;
}

function publishes(user: string): number {
  return h.slack.callsOf('views.publish').filter((c) => c.args.user_id === user).length;
}

/** The request ids that have Approve/Deny buttons on a Home view. */
function votable(view: Record<string, unknown>): string[] {
  const blocks = (view.blocks ?? []) as { type: string; block_id?: string }[];
  return blocks
    .filter((b) => b.type === 'actions' && b.block_id?.startsWith('home_vote:'))
    .map((b) => b.block_id?.slice('home_vote:'.length) ?? '');
}

const refusals = (id: string) => auditRefusals(h.server, id);

describe('App Home', () => {
  it('shows a reviewer what waits for their vote, with Approve and Deny right there', async () => {
    const id = await create({ title: 'Grant prod read to the analytics role' });
    const view = await openHome(h, bob.id);
    expect(view.type).toBe('home');
    expect(checkModal(view)).toEqual([]);
    expect(votable(view)).toContain(id);
    expect(buttonsOf(view.blocks as unknown[])).toEqual(expect.arrayContaining(['approve', 'deny']));
    const text = textOf(view);
    expect(text).toContain('Grant prod read to the analytics role');
    expect(text).toContain('*You requested:* nothing yet.');
    expect(text).not.toContain('Pending by channel');
  });

  it('shows the requester their own request under "You requested", never as something to vote on', async () => {
    const id = await create({ title: 'Alice wants this' });
    const view = await openHome(h, alice.id);
    expect(votable(view)).not.toContain(id);
    expect(textOf(view)).toMatch(/\*You requested recently\* \(\d+ requests?\)/);
    expect(textOf(view)).toContain('Alice wants this');
  });

  it('leaves out requests the viewer may not approve (user groups), and guests get nothing to vote on', async () => {
    const id = await create({ approvers: { groups: ['SDBA'] } });
    expect(votable(await openHome(h, bob.id))).not.toContain(id);
    expect(votable(await openHome(h, carol.id))).toContain(id);
    expect(votable(await openHome(h, guest.id))).toEqual([]);
  });

  it('refuses the requester approving their own request from the Home tab, as on the card', async () => {
    const id = await create();
    const dms = h.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === alice.id).length;
    const before = publishes(alice.id);
    const res = await clickFromHome(h, alice.id, id, 'approve');
    expect(res.status).toBe(200);
    const view = await nextHome(h, alice.id, before);
    expect(textOf(view)).toContain(':warning: You requested this change, so someone else has to approve it.');
    expect((await status(id)).status).toBe('pending');
    expect((await status(id)).votes).toEqual([]);
    expect(await refusals(id)).toEqual(['requester']);
    // Told on the Home tab, where she is looking: no ephemeral (there is no channel), no DM.
    expect(h.slack.ephemerals(alice.id)).toEqual([]);
    expect(h.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === alice.id)).toHaveLength(dms);
    expect(cardOf(h, id)?.updates).toBe(0);
  });

  it('refuses the requester by email too (another account with the same email)', async () => {
    const id = await create({ requester: { email: alice.email } });
    const before = publishes(aliceAlt.id);
    await clickFromHome(h, aliceAlt.id, id, 'approve');
    expect(textOf(await nextHome(h, aliceAlt.id, before))).toContain('You requested this change');
    expect((await status(id)).status).toBe('pending');
  });

  it('refuses the requester denying from the Home tab without opening the dialog', async () => {
    const id = await create();
    const opened = h.slack.callsOf('views.open').length;
    const before = publishes(alice.id);
    await clickFromHome(h, alice.id, id, 'deny');
    expect(textOf(await nextHome(h, alice.id, before))).toContain('You requested this change');
    expect(h.slack.callsOf('views.open')).toHaveLength(opened);
  });

  it('an Approve from the Home tab decides through the same path and updates the channel card', async () => {
    const id = await create({ title: 'Approve me from Home' });
    expect(votable(await openHome(h, bob.id))).toContain(id);
    const before = publishes(bob.id);
    await clickFromHome(h, bob.id, id, 'approve');
    const view = await nextHome(h, bob.id, before);
    expect(textOf(view)).toContain(':white_check_mark: Your approval was recorded');
    expect(votable(view)).not.toContain(id);

    const done = await waitFor(async () => {
      const s = await status(id);
      return s.status === 'approved' ? s : null;
    }, 'the approval');
    expect((done.votes as { user_id: string }[]).map((v) => v.user_id)).toEqual([bob.id]);
    // The card in the channel: chat.update on its ts, buttons gone, outcome in the thread.
    const card = cardOf(h, id);
    await waitFor(() => buttonsOf(card?.blocks).length === 0, 'the card losing its buttons');
    const update = h.slack
      .callsOf('chat.update')
      .find((c) => c.args.ts === card?.ts && c.args.channel === card?.channel);
    expect(update).toBeTruthy();
    expect(JSON.stringify(card?.blocks)).toContain(`Approved* by <@${bob.id}>`);
    await waitFor(() => h.slack.thread(card?.ts ?? '').length >= 2, 'the vote and outcome replies');
  });

  it('a second Approve from a stale Home tab is refused with a notice', async () => {
    const id = await create({ min_approvals: 2 });
    let before = publishes(bob.id);
    await clickFromHome(h, bob.id, id, 'approve');
    await nextHome(h, bob.id, before);
    before = publishes(bob.id);
    await clickFromHome(h, bob.id, id, 'approve');
    expect(textOf(await nextHome(h, bob.id, before))).toContain('You have already voted on this request');
    expect((await status(id)).votes).toHaveLength(1);
  });

  it('Deny from the Home tab opens the same deny dialog; once submitted, the Home tab is refreshed', async () => {
    const id = await create({ title: 'Deny me from Home' });
    const opened = h.slack.callsOf('views.open').length;
    await clickFromHome(h, carol.id, id, 'deny');
    const call = await waitFor(() => h.slack.callsOf('views.open')[opened], 'the deny dialog');
    expect((call.args.view as { callback_id: string; private_metadata: string }).private_metadata).toBe(id);

    const before = publishes(carol.id);
    const res = await submitDeny(h, carol.id, id, 'Not during the freeze');
    expect(res.body).toBe('');
    const view = await nextHome(h, carol.id, before);
    expect(textOf(view)).toContain('Your denial was recorded');
    expect(votable(view)).not.toContain(id);
    const s = await status(id);
    expect(s.status).toBe('denied');
    expect(s.reason).toBe('Not during the freeze');
  });

  it('shows admins (here through a user group) the pending counts by channel', async () => {
    await create();
    const view = await openHome(h, dave.id);
    const pending = {
      n: await sqlValue<number>(h.server, "SELECT count(*) AS n FROM requests WHERE status = 'pending'"),
    };
    expect(textOf(view)).toContain(`*Pending by channel* (admin view, ${pending.n} requests in all)`);
    expect(textOf(view)).toMatch(/<#C0APPROVALS> — \d+ pending requests?, oldest/);
    expect(textOf(await openHome(h, bob.id))).not.toContain('Pending by channel');
  });

  it('ignores app_home_opened for the Messages tab', async () => {
    const before = publishes(bob.id);
    const { sendEvent } = await import('../support/slack-user.js');
    const res = await sendEvent(h, {
      type: 'event_callback',
      team_id: 'T0FAKE',
      api_app_id: 'A0FAKE',
      event_id: 'EvMESSAGES',
      event_time: Math.floor(Date.now() / 1000),
      event: { type: 'app_home_opened', user: bob.id, channel: 'DBOB', tab: 'messages' },
    });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 150));
    expect(publishes(bob.id)).toBe(before);
  });
});

describe('App Home within Slack limits', () => {
  let big: Harness;
  beforeAll(async () => {
    big = await startHarness();
  });
  afterAll(() => big.stop());

  it('shows at most 20 waiting requests and stays under 100 blocks with the longest titles', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 27; i++) {
      const title = `${String(i).padStart(2, '0')} ${'*bold* <!here> & more '.repeat(10)}`.slice(0, 150);
      const res = await big.api.create(requestBody({ title }));
      ids.push(res.body.id as string);
    }
    await waitFor(
      async () =>
        (await Promise.all(ids.map((id) => big.server.approvals.requests.get(id)))).every((r) => r?.slackUrl),
      'the cards',
    );
    const bobView = await openHome(big, bob.id);
    expect(checkModal(bobView)).toEqual([]);
    expect(votable(bobView)).toHaveLength(20);
    expect(votable(bobView)[0]).toBe(ids[26]);
    expect(textOf(bobView)).toContain('*Waiting for your vote* (20 of 27 requests)');
    expect(textOf(bobView)).not.toContain('<!here>');
    const aliceView = await openHome(big, alice.id);
    expect(checkModal(aliceView)).toEqual([]);
    expect(textOf(aliceView)).toContain('*You requested recently* (10 of 27 requests)');
  });
});
