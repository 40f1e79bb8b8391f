import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, PEOPLE, requestBody, startHarness } from '../support/harness.js';
import { cardOf, openHome, slashCommand, textOf, waitFor } from '../support/slack-user.js';

/**
 * `/approvals list` and `show`, `mine` and the App Home never reveal a request in a channel to
 * someone who is not a member of that channel (a private channel's requests stay private).
 */
const PRIVATE = 'C0PRIVATE01';
const POLICY = `version: 1
rules:
  - name: secret-things
    match: { environment: secret }
    channel: ${PRIVATE}
`;
const { alice, bob, carol } = PEOPLE;

let h: Harness;
let dir: string;
let hidden: string;
let open: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-visibility-'));
  writeFileSync(join(dir, 'policy.yml'), POLICY);
  h = await startHarness({ env: { COUNTERSIGN_POLICY: join(dir, 'policy.yml') } });
  h.slack.addChannel({
    id: PRIVATE,
    name: 'payroll',
    is_private: true,
    is_member: true,
    members: [alice.id, carol.id],
  });
  const a = await h.api.create(
    requestBody({ environment: 'secret', title: 'Rotate the payroll database key' }),
  );
  const b = await h.api.create(requestBody({ title: 'Export the public changelog' }));
  hidden = a.body.id as string;
  open = b.body.id as string;
  await waitFor(() => cardOf(h, hidden) && cardOf(h, open), 'both cards');
});
afterAll(async () => {
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('requests in a channel the person is not in', () => {
  it('are not in /approvals list, nor counted', async () => {
    const bobs = await slashCommand(h, bob.id, 'list');
    expect(bobs.text).toContain('Export the public changelog');
    expect(bobs.text).not.toContain('payroll');
    expect(bobs.text).not.toContain(hidden);
    expect(bobs.text).toMatch(/\(1 request, newest first\)/);
    const carols = await slashCommand(h, carol.id, 'list');
    expect(carols.text).toContain('Rotate the payroll database key');
    expect(carols.text).toContain('Export the public changelog');
  });

  it('are answered by /approvals show exactly like an id that does not exist', async () => {
    const shown = await slashCommand(h, bob.id, `show ${hidden}`);
    const missing = await slashCommand(h, bob.id, `show req_${'0'.repeat(26)}`);
    expect(shown.text).not.toContain('payroll');
    expect(shown.text.replaceAll(hidden, 'ID')).toBe(missing.text.replaceAll(`req_${'0'.repeat(26)}`, 'ID'));
    // A unique prefix finds nothing either.
    expect((await slashCommand(h, bob.id, `show ${hidden.slice(0, 14)}`)).text).not.toContain('payroll');
    expect((await slashCommand(h, carol.id, `show ${hidden}`)).text).toContain(
      'Rotate the payroll database key',
    );
  });

  it('are not offered for a vote in /approvals mine or on the App Home', async () => {
    expect((await slashCommand(h, bob.id, 'mine')).text).not.toContain('payroll');
    const bobsHome = textOf(await openHome(h, bob.id));
    expect(bobsHome).toContain('Export the public changelog');
    expect(bobsHome).not.toContain('payroll');
    expect(textOf(await openHome(h, carol.id))).toContain('Rotate the payroll database key');
  });
});

describe('when Slack cannot list a channel', () => {
  it('hides its requests and says so, until Slack answers again', async () => {
    const fresh = await startHarness();
    try {
      const res = await fresh.api.create(requestBody({ title: 'Visible once Slack answers' }));
      await waitFor(() => cardOf(fresh, res.body.id as string), 'the card');
      fresh.slack.failNext('conversations.members', 'internal_error');
      const first = await slashCommand(fresh, bob.id, 'list');
      expect(first.text).not.toContain('Visible once Slack answers');
      expect(first.text).toMatch(/Slack could not list the members of a channel/);
      expect((await slashCommand(fresh, bob.id, 'list')).text).toContain('Visible once Slack answers');
    } finally {
      await fresh.stop();
    }
  });
});

describe('the cache of a channel’s members', () => {
  it('asks Slack once per channel for a minute, again after it, and gives no one another’s answer', async () => {
    // The server's clock is moved forward to end the cache's minute (Identity's ttl).
    let skew = 0;
    const fresh = await startHarness({
      env: { COUNTERSIGN_POLICY: join(dir, 'policy.yml') },
      now: () => Date.now() + skew,
    });
    try {
      fresh.slack.addChannel({
        id: PRIVATE,
        name: 'payroll',
        is_private: true,
        is_member: true,
        members: [alice.id, carol.id],
      });
      const secret = await fresh.api.create(
        requestBody({ environment: 'secret', title: 'Rotate the payroll database key' }),
      );
      const open = await fresh.api.create(requestBody({ title: 'Export the public changelog' }));
      const id = secret.body.id as string;
      await waitFor(() => cardOf(fresh, id) && cardOf(fresh, open.body.id as string), 'both cards');
      const asked = () =>
        fresh.slack.callsOf('conversations.members').filter((c) => c.args.channel === PRIVATE).length;
      const before = asked();

      // A member lists and shows it again and again: one call to Slack for all of them.
      for (const text of ['list', `show ${id}`, 'list', `show ${id}`]) {
        expect((await slashCommand(fresh, carol.id, text)).text).toContain('Rotate the payroll database key');
      }
      expect(asked() - before).toBe(1);

      // Someone else, right after, from the same cached members: still not shown, no new call.
      const bobs = await slashCommand(fresh, bob.id, 'list');
      expect(bobs.text).toContain('Export the public changelog');
      expect(bobs.text).not.toContain('payroll');
      expect((await slashCommand(fresh, bob.id, `show ${id}`)).text).not.toContain('payroll');
      expect(asked() - before).toBe(1);

      // Half a minute on, still the cached members.
      skew = 30_000;
      expect((await slashCommand(fresh, carol.id, 'list')).text).toContain('Rotate the payroll database key');
      expect(asked() - before).toBe(1);

      // Carol leaves the channel; once the minute is over Slack is asked again and she no longer
      // sees it; Bob still does not.
      fresh.slack.addChannel({
        id: PRIVATE,
        name: 'payroll',
        is_private: true,
        is_member: true,
        members: [alice.id],
      });
      skew = 61_000;
      const carols = await slashCommand(fresh, carol.id, 'list');
      expect(carols.text).toContain('Export the public changelog');
      expect(carols.text).not.toContain('payroll');
      expect(asked() - before).toBe(2);
      expect((await slashCommand(fresh, carol.id, `show ${id}`)).text).not.toContain('payroll');
      expect((await slashCommand(fresh, bob.id, 'list')).text).not.toContain('payroll');
      expect(asked() - before).toBe(2);
    } finally {
      await fresh.stop();
    }
  });
});
