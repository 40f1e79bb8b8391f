import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, PEOPLE, requestBody, sqlRows, sqlValue, startHarness } from '../support/harness.js';
import { buttonsOf, cardOf, click, slashCommand, waitFor } from '../support/slack-user.js';

/** A pipeline's callback endpoint on 127.0.0.1 that records every POST. */
class Receiver {
  readonly posts: { headers: IncomingHttpHeaders; body: string }[] = [];
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.posts.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

const { alice, bob, carol, dave } = PEOPLE;
// carol is an admin by user ID, dave through the SADMINS user group; bob is a reviewer.
const ADMIN_ENV = { COUNTERSIGN_ADMINS: `${carol.id},SADMINS` };

async function create(h: Harness, over: Record<string, unknown> = {}): Promise<string> {
  const res = await h.api.create(requestBody(over));
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  await waitFor(
    async () => cardOf(h, id) && (await h.server.approvals.requests.get(id))?.slackUrl,
    'the card and its link',
  );
  return id;
}

async function status(h: Harness, id: string) {
  return (await h.api.request(id)).body;
}

describe('/approvals for everyone', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: ADMIN_ENV });
    h.slack.groups.set('SADMINS', [dave.id]);
    h.slack.groups.set('SDBA', [carol.id]);
  });
  afterAll(() => h.stop());

  it('acks at once and answers privately through the response_url', async () => {
    const reply = await slashCommand(h, bob.id, 'help');
    expect(reply.status).toBe(200);
    expect(reply.ackBody).toBe('');
    expect(reply.body.response_type).toBe('ephemeral');
  });

  it('help (and no subcommand at all) lists every subcommand, admin ones marked', async () => {
    for (const text of ['help', '', '  HELP ']) {
      const reply = await slashCommand(h, bob.id, text);
      for (const sub of [
        'list [page]',
        'mine',
        'show <id>',
        'stats',
        'cancel <id> [reason]',
        'audit verify',
      ]) {
        expect(reply.text).toContain(`/approvals ${sub}`);
      }
      expect(reply.text).toContain('Admins only');
    }
  });

  it('answers an unknown subcommand with what it can do', async () => {
    const reply = await slashCommand(h, bob.id, 'approve everything');
    expect(reply.text).toContain('`/approvals approve` is not a command I know');
    expect(reply.text).toContain('/approvals list');
    // What was typed is shown as text, never as Slack markup.
    const shout = await slashCommand(h, bob.id, '<!here> now');
    expect(shout.text).toContain('`/approvals &lt;!here&gt;` is not a command I know');
    expect(shout.text).not.toContain('<!here>');
  });

  it('list: pending requests, newest first, linked to their cards, with time left', async () => {
    const older = await create(h, { title: 'Rotate the staging database password' });
    const newer = await create(h, {
      title: 'Attach AdministratorAccess to the deploy role',
      ttl_seconds: 7200,
    });
    const decided = await create(h, { title: 'Already decided request' });
    await click(h, bob.id, decided, 'approve');
    await waitFor(async () => (await status(h, decided)).status === 'approved', 'the approval');

    const reply = await slashCommand(h, bob.id, 'list');
    const text = reply.text;
    expect(text.indexOf(newer)).toBeGreaterThan(-1);
    expect(text.indexOf(newer)).toBeLessThan(text.indexOf(older));
    expect(text).not.toContain(decided);
    const link = (await h.server.approvals.requests.get(newer))?.slackUrl;
    expect(link).toMatch(/^https:\/\/fake\.slack\.test\//);
    expect(text).toContain(`<${link}|Attach AdministratorAccess to the deploy role>`);
    expect(text).toMatch(/1 hour left|2 hours left|59 minutes left/);
    expect(text).toContain('0 of 1 approval');
  });

  it('list refuses a page that is not a number, and says how many pages there are', async () => {
    expect((await slashCommand(h, bob.id, 'list all')).text).toContain(
      '`list` takes an optional page number',
    );
    expect((await slashCommand(h, bob.id, 'list 99')).text).toMatch(
      /There is only 1 page of pending requests/,
    );
  });

  it('mine: what waits for my vote (not mine, not voted, allowed) and what I requested', async () => {
    const open = await create(h, { title: 'Open to any reviewer' });
    const dbaOnly = await create(h, { title: 'DBA only', approvers: { groups: ['SDBA'] } });
    const voted = await create(h, { title: 'Bob voted already', min_approvals: 2 });
    await click(h, bob.id, voted, 'approve');
    await waitFor(async () => ((await status(h, voted)).votes as unknown[]).length === 1, 'the vote');

    const bobs = (await slashCommand(h, bob.id, 'mine')).text;
    expect(bobs).toContain(open);
    expect(bobs).not.toContain(dbaOnly);
    expect(bobs).not.toContain(voted);
    expect(bobs).toContain('*You requested:* nothing yet.');

    const carols = (await slashCommand(h, carol.id, 'mine')).text;
    expect(carols).toContain(dbaOnly);
    expect(carols).toContain(voted);

    const alices = (await slashCommand(h, alice.id, 'mine')).text;
    expect(alices).toContain('*Waiting for your vote:* nothing right now.');
    expect(alices).toMatch(/\*You requested\* \(\d+ requests?, newest first\)/);
    expect(alices).toContain(open);
    expect(alices.indexOf(voted)).toBeLessThan(alices.indexOf(open));
  });

  it('mine takes no arguments', async () => {
    expect((await slashCommand(h, bob.id, 'mine please')).text).toContain('`mine` takes no arguments');
  });

  it('show: the request, its votes with reasons, and its history', async () => {
    const id = await create(h, { title: 'Export invoices', min_approvals: 2 });
    await click(h, carol.id, id, 'approve');
    await waitFor(async () => ((await status(h, id)).votes as unknown[]).length === 1, 'the vote');
    await click(h, alice.id, id, 'approve'); // refused: the requester
    await waitFor(() => h.slack.ephemerals(alice.id).length > 0, 'the refusal');

    // Ids are long: lower case is fine.
    const text = (await slashCommand(h, bob.id, `show ${id.toLowerCase()}`)).text;
    expect(text).toContain('Export invoices');
    expect(text).toContain('Waiting for approval');
    expect(text).toContain(`:white_check_mark: <@${carol.id}> approved`);
    expect(text).toMatch(/\*History\* \(4 events\)/);
    expect(text).toContain('created by the pipeline *ci*');
    expect(text).toContain('card posted in <#C0APPROVALS>');
    expect(text).toContain(`<@${carol.id}> approved`);
    expect(text).toContain(`<@${alice.id}> tried to approve; refused (requester)`);
    expect(text).toContain(`ID: ${id}`);
  });

  it('show needs exactly one known id', async () => {
    expect((await slashCommand(h, bob.id, 'show')).text).toContain('`show` needs the id of a request');
    expect((await slashCommand(h, bob.id, 'show a b')).text).toContain('`show` takes exactly one request id');
    expect((await slashCommand(h, bob.id, 'show req_NOPE')).text).toContain(
      'No request has the id `req_NOPE`',
    );
  });

  it('stats takes no arguments', async () => {
    expect((await slashCommand(h, bob.id, 'stats weekly')).text).toContain('`stats` takes no arguments');
  });

  it('answers guests and bots with help only: requests may concern channels they are not in', async () => {
    const { guest, singleGuest, bot } = PEOPLE;
    for (const user of [guest.id, singleGuest.id]) {
      expect((await slashCommand(h, user, 'list')).text).toContain('Guest accounts cannot use `/approvals`');
      expect((await slashCommand(h, user, 'show req_X')).text).toContain('Guest accounts cannot use');
    }
    expect((await slashCommand(h, bot.id, 'stats')).text).toContain('Bots and apps cannot use `/approvals`');
    expect((await slashCommand(h, guest.id, 'help')).text).toContain('/approvals list');
  });

  it('refuses cancel and audit verify to someone who is not an admin, and changes nothing', async () => {
    const id = await create(h);
    const cancel = await slashCommand(h, bob.id, `cancel ${id} not needed`);
    expect(cancel.text).toContain('Only Countersign admins can cancel requests');
    expect(cancel.text).toContain('COUNTERSIGN_ADMINS');
    expect((await status(h, id)).status).toBe('pending');
    const audit = await slashCommand(h, bob.id, 'audit verify');
    expect(audit.text).toContain('Only Countersign admins can verify the audit trail');
    // The requester is no admin either.
    expect((await slashCommand(h, alice.id, `cancel ${id}`)).text).toContain('Only Countersign admins');
  });
});

describe('/approvals for admins', () => {
  let h: Harness;
  let rx: Receiver;
  beforeAll(async () => {
    h = await startHarness({ env: ADMIN_ENV });
    h.slack.groups.set('SADMINS', [dave.id]);
    rx = await new Receiver().start();
  });
  afterAll(async () => {
    await h.stop();
    await rx.stop();
  });

  it('cancel reaches the pipeline as request.cancelled, updates the card, and names the admin', async () => {
    const id = await create(h, { callback_url: rx.url });
    const reply = await slashCommand(h, carol.id, `cancel ${id}   rolled back   by hand`);
    expect(reply.text).toContain(`Cancelled \`${id}\``);
    expect(reply.text).toContain('request.cancelled');

    const post = await waitFor(() => rx.posts[0], 'the callback');
    const event = JSON.parse(post.body) as { type: string; data: Record<string, unknown> };
    expect(event.type).toBe('request.cancelled');
    expect(event.data).toMatchObject({
      id,
      status: 'cancelled',
      decided_by: carol.id,
      reason: 'rolled back   by hand',
    });
    expect(post.headers['webhook-signature']).toMatch(/^v1,/);

    const card = cardOf(h, id);
    await waitFor(() => (card?.updates ?? 0) > 0 && buttonsOf(card?.blocks).length === 0, 'the card update');
    expect(JSON.stringify(card?.blocks)).toContain(`Cancelled* by <@${carol.id}>`);
    const events = await sqlRows<{ actor: string }>(
      h.server,
      "SELECT actor FROM audit_events WHERE request_id = ? AND type = 'request.cancelled'",
      id,
    );
    expect(events).toEqual([{ actor: carol.id }]);
  });

  it('a member of an admin user group may cancel too; a decided request is not cancelled twice', async () => {
    const id = await create(h);
    expect((await slashCommand(h, dave.id, `cancel ${id}`)).text).toContain(`Cancelled \`${id}\``);
    expect((await status(h, id)).status).toBe('cancelled');
    const again = await slashCommand(h, dave.id, `cancel ${id} again`);
    expect(again.text).toContain('is already *cancelled*; only pending requests can be cancelled');
  });

  it('cancel needs an id that exists', async () => {
    expect((await slashCommand(h, carol.id, 'cancel')).text).toContain(
      '`cancel` needs the id of a pending request',
    );
    expect((await slashCommand(h, carol.id, 'cancel req_MISSING')).text).toContain('No request has the id');
  });

  it('admins see the same help, list, mine, show and stats', async () => {
    const id = await create(h, { title: 'Seen by an admin' });
    expect((await slashCommand(h, carol.id, 'help')).text).toContain('/approvals cancel <id> [reason]');
    expect((await slashCommand(h, carol.id, 'list')).text).toContain(id);
    expect((await slashCommand(h, carol.id, 'mine')).text).toContain(id);
    expect((await slashCommand(h, carol.id, `show ${id}`)).text).toContain('Seen by an admin');
    expect((await slashCommand(h, carol.id, 'stats')).text).toContain('Last 30 days');
  });

  it('audit verify reports a sound trail, and names the first bad event once one is changed', async () => {
    const ok = await slashCommand(h, carol.id, 'audit verify');
    expect(ok.text).toContain(':white_check_mark: The audit trail verifies');
    expect((await slashCommand(h, carol.id, 'audit')).text).toContain(
      'The only `audit` subcommand here is `verify`',
    );

    await sqlRows(
      h.server,
      "UPDATE audit_events SET actor = 'USOMEONEELSE' WHERE seq = (SELECT min(seq) FROM audit_events WHERE type = 'request.cancelled')",
    );
    const seq = {
      seq: await sqlValue<number>(
        h.server,
        "SELECT min(seq) AS seq FROM audit_events WHERE type = 'request.cancelled'",
      ),
    };
    const bad = await slashCommand(h, dave.id, 'audit verify');
    expect(bad.text).toContain('does NOT verify');
    expect(bad.text).toContain(`event #${seq.seq} (request.cancelled)`);
  });
});

describe('/approvals list pages', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());

  it('pages long lists within Slack limits, even with the longest titles', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const title = `${String(i).padStart(2, '0')} ${'<&> long title '.repeat(10)}`.slice(0, 150);
      const res = await h.api.create(requestBody({ title, requester: { email: `x${i}@example.com` } }));
      ids.push(res.body.id as string);
    }
    await waitFor(
      async () =>
        (await Promise.all(ids.map((id) => h.server.approvals.requests.get(id)))).every((r) => r?.slackUrl),
      'all the cards',
    );
    const first = await slashCommand(h, bob.id, 'list');
    expect(first.text).toContain('Pending approval requests* (23 requests, newest first)');
    expect(first.text).toContain('Showing 1–10 · page 1 of 3');
    expect(first.text).toContain('next: `/approvals list 2`');
    expect(first.text).toContain(ids[22]);
    expect(first.text).not.toContain(ids[12]);
    const last = await slashCommand(h, bob.id, 'list 3');
    expect(last.text).toContain('Showing 21–23 · page 3 of 3');
    expect(last.text).toContain(ids[0]);
    expect(last.text).toContain('previous: `/approvals list 2`');
    // Titles are escaped, never read as Slack markup.
    expect(last.text).toContain('&lt;&amp;&gt; long title');
    expect((await slashCommand(h, bob.id, 'list 4')).text).toContain('There are only 3 pages');
  });
});

describe('/approvals stats', () => {
  let h: Harness;
  let offset = 0;
  beforeAll(async () => {
    h = await startHarness({ now: () => Date.now() + offset });
  });
  afterAll(() => h.stop());

  it('counts by status over 7 and 30 days, the median time to decision, and rubber stamps', async () => {
    // Ten days ago (straight through the service; the API only takes fresh signatures).
    const old = await h.server.approvals.submit(
      'ci',
      'msg_old',
      'a'.repeat(64),
      {
        action: 'db.export',
        title: 'Old one',
        requester: { email: 'old@example.com' },
        risk: 'low',
        min_approvals: 1,
        ttl_seconds: 3600,
      },
      Date.now() - 10 * 86_400_000,
    );
    expect(old.kind).toBe('created');
    // Approved 30 s after its card appeared: read first.
    const slow = await create(h, { title: 'Read carefully' });
    offset += 30_000;
    await click(h, bob.id, slow, 'approve');
    // Approved at once: a rubber stamp.
    const fast = await create(h, { title: 'Stamped' });
    await click(h, carol.id, fast, 'approve');
    const cancelled = await create(h, { title: 'Withdrawn' });
    await h.api.cancel(cancelled, 'not needed');
    await create(h, { title: 'Still waiting' });
    await waitFor(
      async () =>
        (await status(h, slow)).status === 'approved' && (await status(h, fast)).status === 'approved',
      'both approvals',
    );

    const text = (await slashCommand(h, bob.id, 'stats')).text;
    const [week, month] = text.split('*Last 30 days*');
    expect(week).toContain('*Last 7 days* — 4 requests');
    expect(week).toContain('2 approved · 0 denied · 0 expired · 1 cancelled · 1 pending');
    expect(week).toMatch(/Median time to decision: \d+ s \(over 2 decisions\)/);
    expect(week).toContain('Rubber stamps: 1 of 2 approvals (50%) came within 10 s of the card appearing');
    expect(month).toContain(' — 5 requests');
    // The old one's deadline passed nine days ago: the expiry timer expired it at once.
    expect(month).toContain('2 approved · 0 denied · 1 expired · 1 cancelled · 1 pending');
  });
});
