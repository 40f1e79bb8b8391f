import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestObject } from '../../src/core/request-object.js';
import { type Harness, PEOPLE, requestBody, sqlRows, startHarness } from '../support/harness.js';
import { buttonsOf, cardOf, click, slashCommand, waitFor } from '../support/slack-user.js';

/**
 * Who asked: an email is matched normalised (case, spaces, +tag) both ways, a requester Slack
 * knows no user for is shown as unverified, and a policy rule may refuse such a request outright
 * (`require_verified_requester`), as soon as the card's lookup finds no such user.
 */
const POLICY = `version: 1
rules:
  - name: prod-verified
    match: { environment: production }
    require_verified_requester: true
`;

let h: Harness;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-requester-'));
  writeFileSync(join(dir, 'policy.yml'), POLICY);
  h = await startHarness({ env: { COUNTERSIGN_POLICY: join(dir, 'policy.yml') } });
});
afterAll(async () => {
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function create(over: Record<string, unknown>): Promise<string> {
  const res = await h.api.create(requestBody({ environment: 'staging', ...over }));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const status = async (id: string) => (await h.api.request(id)).body as unknown as RequestObject;
const cardText = (id: string) => JSON.stringify(cardOf(h, id)?.blocks ?? []);

describe('self-approval by email', () => {
  it('catches a requester given as name+tag@ when their own account approves', async () => {
    const id = await create({ requester: { email: 'Bob+Deploy@Example.com' } });
    await waitFor(() => cardOf(h, id), 'the card');
    const before = h.slack.ephemerals(PEOPLE.bob.id).length;
    await click(h, PEOPLE.bob.id, id, 'approve');
    const told = await waitFor(() => h.slack.ephemerals(PEOPLE.bob.id)[before], 'the refusal');
    expect(String(told.args.text)).toMatch(/You requested this change/);
    expect((await status(id)).votes).toEqual([]);
    // The card names the person Slack found, with no warning.
    expect(cardText(id)).toContain(`<@${PEOPLE.bob.id}>`);
    expect(cardText(id)).not.toContain('unverified');
  });
});

describe('a requester Slack does not know', () => {
  it('is shown as unverified on the card and in /approvals show, and the request still waits for review', async () => {
    const id = await create({
      requester: { email: '1234+octocat@users.noreply.github.com', name: 'octocat' },
    });
    await waitFor(() => cardOf(h, id), 'the card');
    expect(cardText(id)).toContain(
      'octocat (1234+octocat@users.noreply.github.com) :warning: _unverified: no Slack user matches_',
    );
    expect((await status(id)).status).toBe('pending');
    const show = await slashCommand(h, PEOPLE.carol.id, `show ${id}`);
    expect(show.text).toContain('unverified');
    expect(buttonsOf(cardOf(h, id)?.blocks)).toEqual(['approve', 'deny']);
  });

  it('is unverified when given only as a Slack user ID that does not exist', async () => {
    const id = await create({ requester: { slack_user_id: 'UNOBODY01' } });
    await waitFor(() => cardOf(h, id), 'the card');
    expect(cardText(id)).toContain('unverified');
  });

  it('gets the request denied by policy, with what to fix, when the rule requires a verified requester', async () => {
    const id = await create({
      environment: 'production',
      requester: { email: '99+ci@users.noreply.github.com' },
    });
    await waitFor(async () => (await status(id)).status === 'denied', 'the denial by policy');
    const denied = await status(id);
    expect(denied.decided_by).toBe('policy');
    expect(denied.reason).toMatch(
      /matches no Slack user of this workspace, and policy rule prod-verified requires a verified requester: send requester\.email as the person's Slack email address, or requester\.slack_user_id/,
    );
    // The card shows the outcome, without buttons, and says why.
    const card = await waitFor(() => cardOf(h, id), 'the card');
    expect(buttonsOf(card.blocks)).toEqual([]);
    expect(cardText(id)).toContain('unverified');
    const events = await sqlRows<{ type: string; actor: string }>(
      h.server,
      'SELECT type, actor FROM audit_events WHERE request_id = ? ORDER BY seq',
      id,
    );
    expect(events).toContainEqual({ type: 'request.denied', actor: 'policy' });
  });

  it('under the same rule, a requester Slack knows waits for review as usual', async () => {
    const id = await create({ environment: 'production', requester: { email: 'ALICE@example.com' } });
    await waitFor(() => cardOf(h, id), 'the card');
    expect((await status(id)).status).toBe('pending');
    expect(cardText(id)).not.toContain('unverified');
  });

  it('under the same rule, waits for Slack to answer instead of posting unchecked', async () => {
    h.slack.failNext('users.lookupByEmail', 'internal_error');
    const id = await create({ environment: 'production', requester: { email: 'carol@example.com' } });
    const card = await waitFor(() => cardOf(h, id), 'the card, after a retry', 15_000);
    expect(
      h.slack.callsOf('users.lookupByEmail').filter((c) => c.args.email === 'carol@example.com').length,
    ).toBeGreaterThanOrEqual(2);
    expect(buttonsOf(card.blocks)).toEqual(['approve', 'deny']);
    expect((await status(id)).status).toBe('pending');
  });
});
