import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { auditRefusals, type Harness, PEOPLE, requestBody, startHarness } from '../support/harness.js';
import { cardOf, click, openHome, slashCommand, submitDeny, textOf, waitFor } from '../support/slack-user.js';

/**
 * Only members of the installing workspace (pinned from auth.test at start), or of its Enterprise
 * Grid organisation, vote, use `/approvals` or see requests on the App Home. A Slack Connect
 * partner in a shared channel is refused like a guest, with words of its own.
 */
const { bob, partner } = PEOPLE;

const refusals = (h: Harness, id: string) => auditRefusals(h.server, id);

async function create(h: Harness, over: Record<string, unknown> = {}): Promise<string> {
  const res = await h.api.create(requestBody(over));
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  await waitFor(() => cardOf(h, id), 'the card');
  return id;
}

describe('users of another workspace (Slack Connect)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());

  it('cannot approve, even when policy names no approvers', async () => {
    const id = await create(h);
    const before = h.slack.ephemerals(partner.id).length;
    expect((await click(h, partner.id, id, 'approve')).status).toBe(200);
    const told = await waitFor(() => h.slack.ephemerals(partner.id)[before], 'the private refusal');
    expect(String(told.args.text)).toMatch(/Only members of the workspace where Countersign is installed/);
    expect((await h.api.request(id)).body).toMatchObject({ status: 'pending', votes: [] });
    expect(await refusals(h, id)).toEqual(['other_workspace']);
    // A member still can.
    await click(h, bob.id, id, 'approve');
    await waitFor(async () => (await h.api.request(id)).body.status === 'approved', 'approval by a member');
  });

  it('cannot deny through the modal either', async () => {
    const id = await create(h);
    const res = await submitDeny(h, partner.id, id, 'not mine to judge');
    expect(res.body).toMatch(/Only members of the workspace/);
    expect((await h.api.request(id)).body).toMatchObject({ status: 'pending', votes: [] });
  });

  it('gets no list, request or command from /approvals', async () => {
    const id = await create(h, { title: 'Visible only to members' });
    for (const text of ['list', `show ${id}`, 'mine', 'stats']) {
      const reply = await slashCommand(h, partner.id, text);
      expect(reply.text, text).toMatch(/only for members of the workspace where Countersign is installed/);
      expect(reply.text).not.toContain('Visible only to members');
    }
    expect((await slashCommand(h, bob.id, 'list')).text).toContain('Visible only to members');
  });

  it('sees no request on the App Home', async () => {
    await create(h, { title: 'Not for partners' });
    const view = textOf(await openHome(h, partner.id));
    expect(view).toMatch(/only for members of the workspace where it is installed/);
    expect(view).not.toContain('Not for partners');
    expect(textOf(await openHome(h, bob.id))).toContain('Not for partners');
  });
});

describe('Enterprise Grid', () => {
  let h: Harness;
  beforeAll(async () => {
    const slack = await new SlackEmulator().start();
    slack.team = { id: 'T0FAKE', enterpriseId: 'E0ORG' };
    for (const p of Object.values(PEOPLE)) slack.addUser(p);
    slack.addUser({
      id: 'WSISTER',
      name: 'Sam Sister',
      email: 'sam@example.com',
      team_id: 'T0SISTER',
      enterprise_id: 'E0ORG',
    });
    slack.addUser({
      id: 'WOTHER',
      name: 'Olga Other',
      email: 'olga@other.example',
      team_id: 'T0ELSE',
      enterprise_id: 'E0ELSE',
    });
    h = await startHarness({ slack });
  });
  afterAll(async () => {
    await h.stop();
  });

  it('counts a member of another workspace of the same organisation, not of another organisation', async () => {
    const id = await create(h, { min_approvals: 2 });
    await click(h, 'WOTHER', id, 'approve');
    await waitFor(async () => (await refusals(h, id)).length === 1, 'the refusal');
    expect(await refusals(h, id)).toEqual(['other_workspace']);
    await click(h, 'WSISTER', id, 'approve');
    await waitFor(async () => ((await h.api.request(id)).body.votes as unknown[]).length === 1, 'the vote');
  });
});

describe('pinning the workspace at start', () => {
  it('stops the start with the reason when Slack refuses the token', async () => {
    const slack = await new SlackEmulator().start();
    slack.failNext('auth.test', 'invalid_auth');
    try {
      await expect(startHarness({ slack })).rejects.toThrow(
        /SLACK_BOT_TOKEN is not a valid token \(invalid_auth\)/,
      );
    } finally {
      await slack.stop();
    }
  });
});
