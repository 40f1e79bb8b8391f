import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestObject } from '../../src/core/request-object.js';
import {
  auditRefusals,
  type Harness,
  PEOPLE,
  requestBody,
  sqlValue,
  startHarness,
} from '../support/harness.js';
import { buttonsOf, cardOf, click, submitDeny, waitFor } from '../support/slack-user.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  h.slack.groups.set('SDBA', [PEOPLE.dave.id, PEOPLE.carol.id]);
  h.slack.groups.set('SSRE', [PEOPLE.dave.id, PEOPLE.bob.id]);
});
afterAll(async () => {
  await h.stop();
});

async function create(over: Record<string, unknown> = {}): Promise<string> {
  const res = await h.api.create(requestBody(over));
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  await waitFor(() => cardOf(h, id), 'the card');
  return id;
}

async function status(id: string): Promise<RequestObject> {
  return (await h.api.request(id)).body as unknown as RequestObject;
}

/** Clicks and waits for the private refusal sent to `user`; returns its text. */
async function refused(user: string, id: string, action: 'approve' | 'deny' = 'approve'): Promise<string> {
  const before = h.slack.ephemerals(user).length;
  const res = await click(h, user, id, action);
  expect(res.status).toBe(200);
  const call = await waitFor(() => h.slack.ephemerals(user)[before], `a private refusal to ${user}`);
  expect(call.args.channel).toBe(cardOf(h, id)?.channel);
  return String(call.args.text);
}

const refusalsOf = (id: string) => auditRefusals(h.server, id);

describe('self-approval', () => {
  it('is refused by Slack user ID', async () => {
    const id = await create();
    expect(await refused(PEOPLE.alice.id, id)).toBe(
      'You requested this change, so someone else has to approve it.',
    );
    expect((await status(id)).status).toBe('pending');
    expect(await refusalsOf(id)).toEqual(['requester']);
  });

  it('is refused when the request named only an email and that Slack account clicks', async () => {
    const id = await create({ requester: { email: 'Alice@Example.com' } });
    expect(await refused(PEOPLE.alice.id, id)).toMatch(/You requested this change/);
    expect((await status(id)).votes).toEqual([]);
  });

  it('is refused the other way round: the request named an ID, another account with the same email clicks', async () => {
    const id = await create({ requester: { slack_user_id: PEOPLE.alice.id } });
    expect(await refused(PEOPLE.aliceAlt.id, id)).toMatch(/You requested this change/);
  });

  it('is refused for Deny too, without opening the dialog', async () => {
    const id = await create();
    const opened = h.slack.callsOf('views.open').length;
    expect(await refused(PEOPLE.alice.id, id, 'deny')).toMatch(/You requested this change/);
    expect(h.slack.callsOf('views.open')).toHaveLength(opened);
  });
});

describe('who may vote', () => {
  it.each([
    ['a bot', PEOPLE.bot.id, /Bots and apps cannot vote/],
    ['an app user', PEOPLE.appUser.id, /Bots and apps cannot vote/],
    ['a multi-channel guest', PEOPLE.guest.id, /Guest accounts cannot vote/],
    ['a single-channel guest', PEOPLE.singleGuest.id, /Guest accounts cannot vote/],
    ['a deactivated account', PEOPLE.gone.id, /Deactivated accounts cannot vote/],
  ])('refuses %s', async (_name, user, text) => {
    const id = await create();
    expect(await refused(user, id)).toMatch(text);
    expect((await status(id)).status).toBe('pending');
  });

  it('refuses a user outside a named user group, accepts a member', async () => {
    const id = await create({ approvers: { groups: ['SDBA'] } });
    expect(await refused(PEOPLE.bob.id, id)).toMatch(/not one of the approvers/);
    await click(h, PEOPLE.dave.id, id, 'approve');
    await waitFor(async () => (await status(id)).status === 'approved', 'approval by a group member');
  });

  it('refuses a user not in the named users list', async () => {
    const id = await create({ approvers: { users: [PEOPLE.carol.id] } });
    expect(await refused(PEOPLE.bob.id, id)).toMatch(/not one of the approvers/);
  });
});

describe('quorum', () => {
  it('min_approvals 2 needs two different people; a repeated click by the first adds nothing', async () => {
    const id = await create({ min_approvals: 2 });
    await click(h, PEOPLE.bob.id, id, 'approve');
    await waitFor(async () => (await status(id)).votes.length === 1, 'first vote');
    expect(await refused(PEOPLE.bob.id, id)).toMatch(/already voted/);
    const mid = await status(id);
    expect(mid.status).toBe('pending');
    expect(mid.votes).toHaveLength(1);
    const card = cardOf(h, id);
    await waitFor(() => JSON.stringify(card?.blocks).includes('1 of 2'), 'progress on the card');
    await click(h, PEOPLE.carol.id, id, 'approve');
    const done = await waitFor(async () => {
      const s = await status(id);
      return s.status === 'approved' ? s : null;
    }, 'approval by the second person');
    expect((done.votes as { user_id: string }[]).map((v) => v.user_id)).toEqual([
      PEOPLE.bob.id,
      PEOPLE.carol.id,
    ]);
  });

  it('a member of two approver groups counts once', async () => {
    const id = await create({ min_approvals: 2, approvers: { groups: ['SDBA', 'SSRE'] } });
    await click(h, PEOPLE.dave.id, id, 'approve');
    await waitFor(async () => (await status(id)).votes.length === 1, 'first vote');
    expect(await refused(PEOPLE.dave.id, id)).toMatch(/already voted/);
    expect((await status(id)).status).toBe('pending');
  });

  it('Slack delivering the same click twice changes nothing', async () => {
    const id = await create({ min_approvals: 2 });
    await Promise.all([click(h, PEOPLE.bob.id, id, 'approve'), click(h, PEOPLE.bob.id, id, 'approve')]);
    await waitFor(async () => (await status(id)).votes.length === 1, 'one vote');
    await new Promise((r) => setTimeout(r, 100));
    expect((await status(id)).votes).toHaveLength(1);
  });
});

describe('deny asks why', () => {
  it('Deny → modal → reason → denied, with the reason in the thread and in GET', async () => {
    const id = await create();
    const opened = h.slack.callsOf('views.open').length;
    await click(h, PEOPLE.bob.id, id, 'deny');
    const call = await waitFor(() => h.slack.callsOf('views.open')[opened], 'the deny modal');
    const view = call.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('deny_reason');
    expect(view.private_metadata).toBe(id);

    const empty = await submitDeny(h, PEOPLE.bob.id, id, '   ');
    expect(JSON.parse(empty.body)).toMatchObject({ response_action: 'errors' });
    expect((await status(id)).status).toBe('pending');

    const res = await submitDeny(h, PEOPLE.bob.id, id, 'Exports of customer emails need DPO sign-off');
    expect(res.status).toBe(200);
    const got = await status(id);
    expect(got).toMatchObject({ status: 'denied', reason: 'Exports of customer emails need DPO sign-off' });
    expect(got.votes).toEqual([
      expect.objectContaining({
        user_id: PEOPLE.bob.id,
        decision: 'deny',
        reason: 'Exports of customer emails need DPO sign-off',
      }),
    ]);
    const card = cardOf(h, id);
    if (!card) throw new Error('no card');
    await waitFor(() => buttonsOf(card.blocks).length === 0, 'the card to lose its buttons');
    const thread = await waitFor(
      () => h.slack.thread(card.ts).find((m) => /DPO sign-off/.test(m.text + JSON.stringify(m.blocks ?? []))),
      'the reason in the thread',
    );
    expect(thread).toBeDefined();
  });

  it('a refused deny is shown inside the modal', async () => {
    const id = await create();
    await click(h, PEOPLE.bob.id, id, 'approve');
    await waitFor(async () => (await status(id)).status === 'approved', 'approval');
    const res = await submitDeny(h, PEOPLE.carol.id, id, 'too late');
    expect(JSON.parse(res.body)).toMatchObject({
      response_action: 'errors',
      errors: { reason: expect.stringMatching(/already been decided/) },
    });
  });
});

describe('racing clicks', () => {
  it('twelve approvers clicking at once give exactly one decision, one final card and one outcome reply', async () => {
    const approvers = Array.from({ length: 12 }, (_, i) => `URACE${String(i).padStart(2, '0')}`);
    for (const id of approvers) h.slack.addUser({ id, name: id, email: `${id.toLowerCase()}@example.com` });
    for (let round = 0; round < 5; round++) {
      const id = await create({ title: `Race round ${round}` });
      const card = cardOf(h, id);
      if (!card) throw new Error('no card');
      const before = h.slack.ephemerals().length;
      await Promise.all(approvers.map((u) => click(h, u, id, 'approve')));
      const final = await waitFor(async () => {
        const s = await status(id);
        return s.status === 'approved' ? s : null;
      }, 'the decision');
      expect(final.votes).toHaveLength(1);
      const decisions = {
        n: await sqlValue<number>(
          h.server,
          "SELECT count(*) AS n FROM audit_events WHERE request_id = ? AND type = 'request.approved'",
          id,
        ),
      };
      expect(decisions.n).toBe(1);
      await waitFor(() => buttonsOf(card.blocks).length === 0, 'the final card');
      await waitFor(() => h.slack.thread(card.ts).length >= 2, 'vote and outcome replies');
      await new Promise((r) => setTimeout(r, 100));
      const thread = h.slack.thread(card.ts).map((m) => m.text);
      expect(thread).toHaveLength(2);
      expect(thread.filter((t) => t.startsWith('Approved:'))).toHaveLength(1);
      expect(thread.filter((t) => /^<@URACE\d\d> approved:/.test(t))).toHaveLength(1);
      const told = await waitFor(() => {
        const sent = h.slack.ephemerals().slice(before);
        return sent.length >= 11 ? sent : null;
      }, 'the eleven slower clickers to be told');
      expect(told.map((c) => String(c.args.text))).toEqual(
        Array(11).fill(expect.stringMatching(/already been decided/)),
      );
    }
  });
});
