import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sweepOnce } from '../../src/jobs/sweep.js';
import { createLogger } from '../../src/log.js';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { type Harness, PEOPLE, requestBody, sqlRows, startHarness } from '../support/harness.js';
import { buttonsOf, cardOf, click, waitFor } from '../support/slack-user.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function harness(opts: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(opts);
  cleanup.push(() => h.stop({ keepSlack: !!opts.slack, keepDir: !!opts.dir }));
  return h;
}

describe('expiry on the cron', () => {
  it('expires a 10-second request within seconds of its deadline; a later click is refused', async () => {
    const h = await harness({ env: { EXPIRY_CRON: '* * * * * *' } });
    const res = await h.api.create(requestBody({ ttl_seconds: 10 }));
    const id = res.body.id as string;
    const deadline = Date.parse(res.body.expires_at as string);
    const card = await waitFor(() => cardOf(h, id), 'the card');
    const expired = await waitFor(
      async () => {
        const r = await h.api.request(id, 5);
        return r.body.status !== 'pending' ? r.body : null;
      },
      'expiry',
      20_000,
    );
    expect(expired.status).toBe('expired');
    expect(Date.parse(expired.decided_at as string) - deadline).toBeLessThan(3000);
    await waitFor(() => buttonsOf(card.blocks).length === 0 && card.updates > 0, 'the card without buttons');
    expect(JSON.stringify(card.blocks)).toMatch(/Expired/);
    expect(JSON.stringify(card.blocks)).not.toMatch(/denied/i);
    await waitFor(() => h.slack.thread(card.ts).some((m) => /expired/i.test(m.text)), 'the thread to say so');

    await click(h, PEOPLE.bob.id, id, 'approve');
    const told = await waitFor(() => h.slack.ephemerals(PEOPLE.bob.id)[0], 'a private refusal');
    expect(String(told.args.text)).toMatch(/already been decided \(expired\)/);
    expect((await h.api.request(id)).body.status).toBe('expired');
  }, 30_000);

  it('never gives two outcomes when clicks and the sweep race at the deadline', async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    const h = await harness({ now });
    const log = createLogger('error', () => {});
    for (let round = 0; round < 15; round++) {
      offset = 0;
      const res = await h.api.create(requestBody({ ttl_seconds: 10, title: `Race ${round}` }));
      const id = res.body.id as string;
      await waitFor(() => cardOf(h, id), 'the card');
      const deadline = Date.parse(res.body.expires_at as string);
      // Put the clock right at the deadline, give or take a millisecond, and fire both at once.
      offset = deadline - Date.now() - 2 + (round % 4);
      await Promise.all([
        click(h, PEOPLE.bob.id, id, 'approve'),
        click(h, PEOPLE.carol.id, id, 'approve'),
        new Promise<void>((resolve) =>
          setImmediate(() => {
            // The first chunk runs synchronously here, racing the clicks' transactions.
            sweepOnce({ approvals: h.server.approvals, log, now }).then(() => resolve());
          }),
        ),
      ]);
      offset = deadline - Date.now() + 1000;
      await sweepOnce({ approvals: h.server.approvals, log, now });
      const outcomes = await sqlRows<{ type: string }>(
        h.server,
        "SELECT type FROM audit_events WHERE request_id = ? AND type IN ('request.approved','request.denied','request.expired','request.cancelled')",
        id,
      );
      expect(outcomes).toHaveLength(1);
      const final = await h.server.approvals.requests.get(id);
      expect(`request.${final?.status}`).toBe(outcomes[0]?.type);
      expect((await h.server.approvals.requests.votes(id)).length).toBeLessThanOrEqual(1);
    }
  }, 30_000);
});

describe('reminders', () => {
  it('are sent once per point and not again after a restart', async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    const slack = await new SlackEmulator().start();
    for (const p of Object.values(PEOPLE)) slack.addUser(p);
    cleanup.push(() => slack.stop());
    const dir = mkdtempSync(join(tmpdir(), 'countersign-remind-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const log = createLogger('error', () => {});

    let h = await startHarness({ slack, dir, now });
    const res = await h.api.create(
      requestBody({
        ttl_seconds: 1000,
        min_approvals: 2,
        approvers: { users: [PEOPLE.bob.id, PEOPLE.carol.id] },
      }),
    );
    const id = res.body.id as string;
    const card = await waitFor(() => cardOf(h, id), 'the card');
    await click(h, PEOPLE.carol.id, id, 'approve');
    await waitFor(async () => (await h.server.approvals.requests.votes(id)).length === 1, 'Carol’s vote');
    const reminders = () => slack.thread(card.ts).filter((m) => m.text.startsWith('Reminder:'));

    offset = 500_000; // half the TTL
    expect((await sweepOnce({ approvals: h.server.approvals, log, now })).reminded).toBe(1);
    expect((await sweepOnce({ approvals: h.server.approvals, log, now })).reminded).toBe(0);
    const first = await waitFor(() => reminders()[0], 'the first reminder');
    const text = JSON.stringify(first.blocks);
    expect(text).toContain(`<@${PEOPLE.bob.id}>`);
    expect(text).not.toContain(`<@${PEOPLE.carol.id}>`); // she has voted already
    await h.stop({ keepSlack: true, keepDir: true });

    h = await startHarness({ slack, dir, now });
    cleanup.push(() => h.stop({ keepSlack: true, keepDir: true }));
    expect((await sweepOnce({ approvals: h.server.approvals, log, now })).reminded).toBe(0);
    offset = 900_000; // 90% of the TTL
    expect((await sweepOnce({ approvals: h.server.approvals, log, now })).reminded).toBe(1);
    expect((await sweepOnce({ approvals: h.server.approvals, log, now })).reminded).toBe(0);
    await waitFor(() => reminders().length === 2, 'the second reminder');
    await new Promise((r) => setTimeout(r, 200));
    expect(reminders()).toHaveLength(2);
  }, 30_000);
});
