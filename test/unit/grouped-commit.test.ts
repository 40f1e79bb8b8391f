import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { input, type ServiceFixture, serviceFixture } from '../support/service.js';

const T0 = 1_800_000_000_000;
let f: ServiceFixture;
beforeEach(async () => {
  f = await serviceFixture();
});
afterEach(() => f.close());

const count = (table: string) =>
  f.store.sqlite.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

describe('group commit (transactionGrouped / submitGrouped)', () => {
  it('commits the calls of one turn together; a throw undoes and rejects only its own', async () => {
    // Another connection sees nothing of the group until its one COMMIT.
    const reader = new Database(join(f.dir, 'countersign.db'), { readonly: true });
    const seen = () =>
      reader.prepare("SELECT count(*) FROM requests WHERE webhook_id = 'msg_a'").pluck().get();
    const before = count('requests');
    const results = await Promise.allSettled([
      f.approvals.submitGrouped('ci', 'msg_a', 'a'.repeat(64), input({ title: 'A' }), T0),
      f.store.transactionGrouped(async () => {
        f.store.sqlite.prepare("INSERT INTO audit_keys VALUES ('k', 'pem', 0)").run();
        throw new Error('boom');
      }),
      f.approvals.submitGrouped('ci', 'msg_b', 'b'.repeat(64), input({ title: 'B' }), T0),
      f.store.transactionGrouped(async () => seen()),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(results[3]).toEqual({ status: 'fulfilled', value: 0 });
    expect(seen()).toBe(1);
    reader.close();
    expect(count('requests')).toBe(before + 2);
    expect(f.store.sqlite.prepare("SELECT count(*) FROM audit_keys WHERE key_id = 'k'").pluck().get()).toBe(
      0,
    );
    // The audit chain stays one chain across the group.
    const seqs = f.store.sqlite
      .prepare('SELECT seq FROM audit_events ORDER BY seq')
      .pluck()
      .all() as number[];
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('sees earlier calls of the same group: the same webhook-id twice is one request', async () => {
    const [first, again, other] = await Promise.all([
      f.approvals.submitGrouped('ci', 'msg_same', 'c'.repeat(64), input(), T0),
      f.approvals.submitGrouped('ci', 'msg_same', 'c'.repeat(64), input(), T0),
      f.approvals.submitGrouped('ci', 'msg_same', 'd'.repeat(64), input(), T0),
    ]);
    expect(first.kind).toBe('created');
    expect(again.kind).toBe('replayed');
    expect(other.kind).toBe('idempotency_conflict');
    if (first.kind === 'created' && again.kind === 'replayed')
      expect(again.request.id).toBe(first.request.id);
  });
});

describe('outbox claims (SQLite: in memory)', () => {
  const WANT = { serial: 10, parallel: 10 };
  const rows = [
    { kind: 'k', requestId: 'r1', lane: 'slack:C1', payload: {} },
    { kind: 'k', requestId: 'r2', lane: 'callback', payload: {} },
    { kind: 'k', requestId: 'r3', lane: 'slack:C1', payload: {} },
    { kind: 'k', requestId: 'r4', lane: 'slack:C2', payload: {} },
    { kind: 'k', requestId: 'r2', lane: 'callback', payload: {} },
  ];
  const names = (list: { lane: string; requestId: string | null }[]) =>
    list.map((r) => `${r.lane}:${r.requestId}`);

  it('claims one row per Slack lane, rows of a request in order, and nothing claimed twice', async () => {
    await f.store.transaction((t) => t.outbox.enqueue(rows, T0));
    const first = await f.store.outbox.claim('a', T0, WANT, { at: T0, ms: 1000 });
    expect(names(first)).toEqual(['slack:C1:r1', 'callback:r2', 'slack:C2:r4']);
    expect(await f.store.outbox.claim('b', T0, WANT, { at: T0, ms: 1000 })).toEqual([]);
    expect(await f.store.outbox.claim('a', T0 - 1, WANT, { at: T0 - 1, ms: 1000 })).toEqual([]); // not due yet
    await f.store.transaction((t) =>
      t.outbox.markDone(
        'a',
        first.map((r) => r.id),
        T0,
      ),
    );
    expect(names(await f.store.outbox.claim('b', T0, WANT, { at: T0, ms: 1000 }))).toEqual([
      'slack:C1:r3',
      'callback:r2',
    ]);
  });

  it('takes over a claim whose lease ran out, and skips a paused lane until the pause ends', async () => {
    await f.store.transaction((t) => t.outbox.enqueue(rows.slice(0, 1), T0));
    expect(await f.store.outbox.claim('dead', T0, WANT, { at: T0, ms: 1000 })).toHaveLength(1);
    expect(await f.store.outbox.claim('b', T0 + 999, WANT, { at: T0 + 999, ms: 1000 })).toEqual([]);
    expect(names(await f.store.outbox.claim('b', T0 + 1000, WANT, { at: T0 + 1000, ms: 1000 }))).toEqual([
      'slack:C1:r1',
    ]);
    await f.store.outbox.release('b');
    await f.store.outbox.pauseLane('slack:C1', T0 + 5000);
    expect(await f.store.outbox.claim('c', T0 + 4999, WANT, { at: T0 + 4999, ms: 1000 })).toEqual([]);
    expect(await f.store.outbox.claim('c', T0 + 5000, WANT, { at: T0 + 5000, ms: 1000 })).toHaveLength(1);
  });
});
