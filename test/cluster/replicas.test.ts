import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditFile } from '../../src/audit/open-readonly.js';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import {
  type Harness,
  PEOPLE,
  requestBody,
  seedWorkspace,
  sqlRows,
  sqlValue,
  startHarness,
} from '../support/harness.js';
import { buttonsOf, cardOf, click, waitFor } from '../support/slack-user.js';
import { dropStoreFor, storeRefFor } from '../support/test-store.js';

/**
 * Three replicas (three servers in this process) on one PostgreSQL schema and one Slack: any call
 * may land on any of them. Runs in the `postgres` project only (SQLite is one process).
 */
let slack: SlackEmulator;
let dir: string;
let replicas: Harness[] = [];
const approvers = Array.from({ length: 12 }, (_, i) => `URACE${String(i).padStart(2, '0')}`);

beforeAll(async () => {
  slack = await new SlackEmulator().start();
  seedWorkspace(slack);
  for (const id of approvers) slack.addUser({ id, name: id, email: `${id.toLowerCase()}@example.com` });
  dir = mkdtempSync(join(tmpdir(), 'countersign-replicas-'));
  // Started together: the migrations and the key registration happen once.
  replicas = await Promise.all([0, 1, 2].map(() => startHarness({ slack, dir })));
});
afterAll(async () => {
  for (const r of replicas) await r.stop({ keepSlack: true, keepDir: true });
  await slack.stop();
  rmSync(dir, { recursive: true, force: true });
  await dropStoreFor(dir);
});

const at = (i: number) => replicas[i % replicas.length] as Harness;

describe('three replicas on one database', () => {
  it('start together: one key registration, one chain', async () => {
    const registered = await sqlValue<number>(
      at(0).server,
      "SELECT count(*) FROM audit_events WHERE type = 'audit.key_registered'",
    );
    expect(registered).toBe(1);
  });

  it('twelve approvers clicking through different replicas at once: one decision, quorum exact, one final card', async () => {
    for (let round = 0; round < 3; round++) {
      const res = await at(round).api.create(
        requestBody({ title: `Replica race ${round}`, min_approvals: 3 }),
      );
      expect(res.status).toBe(201);
      const id = res.body.id as string;
      const card = await waitFor(() => cardOf(at(0), id), 'the card');
      await Promise.all(approvers.map((u, i) => click(at(i), u, id, 'approve')));
      // Any replica answers the long poll, whichever one decided.
      const final = await waitFor(async () => {
        const s = (await at(round + 1).api.request(id, 5)).body;
        return s.status === 'approved' ? s : null;
      }, 'the decision');
      expect(final.votes).toHaveLength(3);
      expect(
        await sqlValue<number>(
          at(0).server,
          "SELECT count(*) FROM audit_events WHERE request_id = ? AND type = 'request.approved'",
          id,
        ),
      ).toBe(1);
      expect(
        await sqlValue<number>(
          at(0).server,
          "SELECT count(*) FROM audit_events WHERE request_id = ? AND type = 'vote.recorded'",
          id,
        ),
      ).toBe(3);
      await waitFor(() => buttonsOf(card.blocks).length === 0, 'the final card');
      await waitFor(
        async () =>
          (await sqlValue<number>(
            at(0).server,
            'SELECT count(*) FROM outbox WHERE request_id = ? AND done_at IS NULL AND gave_up_at IS NULL',
            id,
          )) === 0,
        'every row of the request delivered',
      );
      const finals = slack
        .callsOf('chat.update')
        .filter((c) => c.args.ts === card.ts && buttonsOf(c.args.blocks as unknown[]).length === 0);
      expect(finals).toHaveLength(1);
      const thread = slack.thread(card.ts).map((m) => m.text);
      expect(thread.filter((t) => t.startsWith('Approved:'))).toHaveLength(1);
      expect(thread.filter((t) => /^<@URACE\d\d> approved:/.test(t))).toHaveLength(3);
      expect(slack.cards().filter((m) => JSON.stringify(m.blocks ?? []).includes(id))).toHaveLength(1);
    }
  });

  it('a long poll on one replica is answered when another replica decides, by NOTIFY, not polling', async () => {
    const res = await at(0).api.create(requestBody({ title: 'Decided elsewhere' }));
    const id = res.body.id as string;
    await waitFor(() => cardOf(at(0), id), 'the card');
    // Every replica listens: none falls back to re-reading the requests it waits on every second
    // (only every 5 s, the safety net against a listener that died without a word).
    for (const r of replicas) expect(r.server.approvals.store.decisionPollMs()).toBe(5000);
    const started = Date.now();
    const poll = at(1).api.request(id, 30);
    await new Promise((r) => setTimeout(r, 300)); // the poll is waiting on replica 1
    await click(at(2), PEOPLE.bob.id, id, 'approve');
    const answered = await poll;
    expect(answered.body.status).toBe('approved');
    // Woken by the decision on replica 2: without it the poll would have lasted until its first
    // re-read, 5 s after it started.
    expect(Date.now() - started).toBeLessThan(4_500);
  });

  it("a Slack 429 seen by one replica holds that channel for all of them, and the channel's order stays", async () => {
    await waitFor(
      async () =>
        (await sqlValue<number>(
          at(0).server,
          'SELECT count(*) FROM outbox WHERE done_at IS NULL AND gave_up_at IS NULL',
        )) === 0,
      'an idle outbox',
    );
    const before = slack.callsOf('chat.postMessage').length;
    slack.failNext('chat.postMessage', 'ratelimited', { status: 429, retryAfter: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await at(i).api.create(requestBody({ title: `Rate limited ${i}` }));
      expect(res.status).toBe(201);
      ids.push(res.body.id as string);
    }
    await waitFor(() => ids.every((id) => cardOf(at(0), id)), 'every card', 20_000);
    const posts = slack.callsOf('chat.postMessage').slice(before);
    const refused = posts[0];
    if (!refused) throw new Error('no post');
    expect(posts.length).toBe(ids.length + 1);
    // Whichever replica posted next, it waited out the Retry-After the first one was given.
    for (const p of posts.slice(1)) expect(p.at - refused.at).toBeGreaterThanOrEqual(2000);
    const order = slack
      .cards()
      .map((m) => ids.findIndex((id) => JSON.stringify(m.blocks ?? []).includes(id)))
      .filter((i) => i >= 0);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('sends a due reminder once, whichever replicas sweep at the same moment', async () => {
    const res = await at(1).api.create(
      requestBody({
        title: 'Remind once',
        ttl_seconds: 1000,
        min_approvals: 2,
        approvers: { users: [PEOPLE.bob.id, PEOPLE.carol.id] },
      }),
    );
    const id = res.body.id as string;
    const card = await waitFor(() => cardOf(at(0), id), 'the card');
    const halfway = Date.now() + 500_000;
    const sent = await Promise.all(replicas.map((r) => r.server.approvals.remindDue(halfway)));
    expect(sent.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    expect(
      await sqlValue<number>(
        at(0).server,
        "SELECT count(*) FROM audit_events WHERE request_id = ? AND type = 'request.reminded'",
        id,
      ),
    ).toBe(1);
    // Queued once, for the sweep's moment (500 s ahead): brought forward, it is posted once.
    const queued = await sqlRows<{ id: number }>(
      at(0).server,
      "UPDATE outbox SET next_at = ? WHERE request_id = ? AND kind = 'slack.thread_reminder' RETURNING id",
      Date.now(),
      id,
    );
    expect(queued).toHaveLength(1);
    at(2).server.worker.wake();
    const reminders = () => slack.thread(card.ts).filter((m) => m.text.startsWith('Reminder:'));
    await waitFor(() => reminders().length === 1, 'the reminder');
    await new Promise((r) => setTimeout(r, 300));
    expect(reminders()).toHaveLength(1);
  });

  it('posts each card once, expires each request once, and keeps one audit chain that verifies', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await at(i).api.create(requestBody({ title: `Fan-out ${i}`, ttl_seconds: 60 }));
      ids.push(res.body.id as string);
    }
    await waitFor(() => ids.every((id) => cardOf(at(0), id)), 'every card');
    // Every replica sweeps at once, an hour later: each request expires once.
    const later = Date.now() + 3_600_000;
    const swept = await Promise.all(replicas.map((r) => r.server.approvals.expireDue(later)));
    expect(swept.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(ids.length);
    const expired = await sqlRows<{ request_id: string }>(
      at(0).server,
      "SELECT request_id FROM audit_events WHERE type = 'request.expired'",
    );
    for (const id of ids) expect(expired.filter((e) => e.request_id === id)).toHaveLength(1);
    for (const id of ids)
      expect(slack.cards().filter((m) => JSON.stringify(m.blocks ?? []).includes(id))).toHaveLength(1);
    // Checkpoints asked of every replica at once: one per head.
    const taken = await Promise.all(replicas.map((r) => r.server.checkpoints.take(Date.now(), 'manual')));
    expect(taken.filter((c) => c !== null)).toHaveLength(1);
    const result = await verifyAuditFile(storeRefFor(dir));
    if (!result.ok) throw new Error(JSON.stringify(result.problem));
  });
});
