import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.js';

/**
 * The SQLite outbox, twin of the PostgreSQL one (test/cluster/outbox-backlog.test.ts and
 * outbox-claim-owner.test.ts): due rows behind a backlog of rows not yet due, and claims settled
 * only by their holder.
 */
const T0 = 1_800_000_000_000;
const LATER = T0 + 86_400_000;
let dir: string;
let store: SqliteStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-sqlite-outbox-'));
  store = openSqliteStore(join(dir, 'countersign.db'));
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const names = (rows: { lane: string; requestId: string | null }[]) =>
  rows.map((r) => `${r.lane} ${r.requestId}`).sort();

function backlog(lane: string, n: number): void {
  const insert = store.sqlite.prepare(
    `INSERT INTO outbox (kind, request_id, lane, payload, attempts, next_at, created_at, last_error)
     VALUES ('callback', ?, ?, '{}', 3, ?, ?, 'connect ECONNREFUSED')`,
  );
  store.sqlite.transaction(() => {
    for (let i = 0; i < n; i++) insert.run(`backlog-${lane}-${i}`, lane, LATER + i, T0);
  })();
}

describe('SQLite outbox claims', () => {
  it('finds the due rows behind a backlog of rows not yet due, in their lanes and in the backlog lane', async () => {
    backlog('callback:ci/dead.example', 5000);
    backlog('slack:C_REFUSING', 1000);
    await store.transaction((t) =>
      t.outbox.enqueue(
        [
          { kind: 'callback', requestId: 'due-dead', lane: 'callback:ci/dead.example', payload: {} },
          { kind: 'slack.post_card', requestId: 'due-refusing', lane: 'slack:C_REFUSING', payload: {} },
          { kind: 'slack.post_card', requestId: 'due-1', lane: 'slack:C_DUE', payload: {} },
          { kind: 'slack.post_card', requestId: 'due-2', lane: 'slack:C_DUE', payload: {} },
        ],
        T0,
      ),
    );
    expect(await store.outbox.anyDue(T0 + 1000, T0)).toBe(true);
    const got = await store.outbox.claim('w', T0 + 1000, { serial: 4, parallel: 4 }, { at: T0, ms: 15_000 });
    expect(names(got)).toEqual([
      'callback:ci/dead.example due-dead',
      'slack:C_DUE due-1',
      'slack:C_REFUSING due-refusing',
    ]);
    await store.transaction((t) =>
      t.outbox.markDone(
        'w',
        got.map((r) => r.id),
        T0 + 1000,
      ),
    );
    const next = await store.outbox.claim('w', T0 + 2000, { serial: 4, parallel: 4 }, { at: T0, ms: 15_000 });
    expect(names(next)).toEqual(['slack:C_DUE due-2']);
    await store.transaction((t) => t.outbox.markDone('w', [next[0]?.id ?? 0], T0 + 2000));
    expect(await store.outbox.anyDue(T0 + 2000, T0)).toBe(false);
  });

  it('a late retryLater, giveUp or markDone from a worker whose lease ran out leaves the holder its row', async () => {
    const lane = 'slack:C_OWNER';
    const want = { serial: 1, parallel: 0 };
    await store.transaction((t) =>
      t.outbox.enqueue(
        [
          { kind: 'slack.post_card', requestId: 'req-1', lane, payload: {} },
          { kind: 'slack.post_card', requestId: 'req-2', lane, payload: {} },
        ],
        T0,
      ),
    );
    const [row] = await store.outbox.claim('a', T0, want, { at: T0, ms: 1000 });
    if (!row) throw new Error('A claimed nothing');
    expect((await store.outbox.claim('b', T0, want, { at: T0 + 1000, ms: 15_000 })).map((r) => r.id)).toEqual(
      [row.id],
    );
    expect(await store.transaction((t) => t.outbox.retryLater('a', row.id, LATER, 'timed out'))).toBe(false);
    expect(await store.transaction((t) => t.outbox.giveUp('a', row.id, T0, 'timed out'))).toBe(false);
    const stored = () =>
      store.sqlite
        .prepare('SELECT next_at, attempts, gave_up_at, done_at FROM outbox WHERE id = ?')
        .get(row.id);
    expect(stored()).toEqual({ next_at: T0, attempts: 0, gave_up_at: null, done_at: null });
    expect(await store.outbox.claim('c', T0, want, { at: T0 + 1001, ms: 15_000 })).toEqual([]);

    // A's work was done: the row is, but B still runs it, so the lane waits for B.
    await store.transaction((t) => t.outbox.markDone('a', [row.id], T0));
    expect(await store.outbox.claim('c', T0, want, { at: T0 + 1002, ms: 15_000 })).toEqual([]);
    expect(await store.transaction((t) => t.outbox.retryLater('b', row.id, LATER, 'duplicate'))).toBe(false);
    expect(stored()).toMatchObject({ next_at: T0, attempts: 0, done_at: T0 });
    const [second] = await store.outbox.claim('c', T0, want, { at: T0 + 1003, ms: 15_000 });
    expect(second?.requestId).toBe('req-2');
    // The holder's own outcome applies.
    expect(
      await store.transaction((t) => t.outbox.retryLater('c', second?.id ?? 0, LATER, 'slack said no')),
    ).toBe(true);
    expect(store.sqlite.prepare('SELECT next_at, attempts FROM outbox WHERE id = ?').get(second?.id)).toEqual(
      {
        next_at: LATER,
        attempts: 1,
      },
    );
  });
});
