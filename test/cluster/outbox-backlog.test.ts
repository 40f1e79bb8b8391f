import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { createPool, type PgDb } from '../../src/store/pg-db.js';
import { PgOutbox } from '../../src/store/pg-outbox.js';
import * as schema from '../../src/store/schema-pg.js';
import type { Store } from '../../src/store/store.js';
import { dropStoreFor, storeEnvFor } from '../support/test-store.js';

/**
 * The claim on PostgreSQL behind a large backlog of open rows that are not yet due (a dead
 * receiver's callbacks backing off, a Slack channel refusing cards): it still finds the due rows
 * of every lane, in their order, and reads about as many rows as it would without the backlog.
 * The second is counted from EXPLAIN ANALYZE of the statements the claim ran: rows, not time.
 */
const BACKLOG = 20_000;
const T0 = 1_800_000_000_000;
const LATER = T0 + 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'countersign-outbox-backlog-'));
let url = '';
let store: Store;
let pool: pg.Pool;
let outbox: PgOutbox;
const statements: { sql: string; params: unknown[] }[] = [];

beforeAll(async () => {
  url = (await storeEnvFor(dir)).DATABASE_URL as string;
  store = await openStore({ databaseUrl: url, databasePath: '' });
  pool = createPool(url, { max: 2 });
  // The same outbox as the store's, on a drizzle handle that records every statement it runs.
  const db = drizzle(pool, {
    schema,
    logger: { logQuery: (sql, params) => statements.push({ sql, params }) },
  });
  outbox = new PgOutbox(db, (fn) => db.transaction((tx) => fn(tx as unknown as PgDb)));
});

afterAll(async () => {
  await pool?.end();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
  await dropStoreFor(dir);
});

/** Open rows not due before LATER: `lane`'s backlog, ids in one run. */
async function backlog(lane: string, n: number, kind = 'callback'): Promise<void> {
  await pool.query(
    `INSERT INTO outbox (kind, request_id, lane, payload, attempts, next_at, created_at, last_error)
     SELECT $1, 'backlog-' || $2 || '-' || g, $2, '{}', 3, $3::bigint + g, $4::bigint, 'connect ECONNREFUSED'
     FROM generate_series(1, $5::int) g`,
    [kind, lane, LATER, T0, n],
  );
}

/** Rows examined on `outbox` by the claim's reads, from their plans (EXPLAIN ANALYZE). */
async function rowsRead(): Promise<number> {
  let total = 0;
  const walk = (node: Record<string, unknown>) => {
    if (node['Relation Name'] === 'outbox') {
      const loops = Number(node['Actual Loops'] ?? 1);
      const rows = Number(node['Actual Rows'] ?? 0);
      const removed =
        Number(node['Rows Removed by Filter'] ?? 0) + Number(node['Rows Removed by Index Recheck'] ?? 0);
      total += (rows + removed) * loops;
    }
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  for (const s of statements.filter((s) => /^\s*(select|with)\b/i.test(s.sql))) {
    const { rows } = await pool.query<{ 'QUERY PLAN': { Plan: Record<string, unknown> }[] }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${s.sql}`,
      s.params,
    );
    const plan = rows[0]?.['QUERY PLAN'][0]?.Plan;
    if (plan) walk(plan);
  }
  return total;
}

describe('the claim behind a backlog of rows not yet due', () => {
  it('finds the due rows of other lanes and of the backlog lane itself, reading few rows', async () => {
    // Lanes sort 'callback:…' before 'slack:…': the backlog lies in front of the Slack lanes.
    await backlog('callback:ci/dead.example', BACKLOG);
    await backlog('slack:C_REFUSING', BACKLOG / 4, 'slack.post_card');
    await store.transaction((t) =>
      t.outbox.enqueue(
        [
          { kind: 'callback', requestId: 'due-dead', lane: 'callback:ci/dead.example', payload: {} },
          { kind: 'slack.post_card', requestId: 'due-refusing', lane: 'slack:C_REFUSING', payload: {} },
          { kind: 'slack.post_card', requestId: 'due-1', lane: 'slack:C_DUE', payload: {} },
          { kind: 'slack.post_card', requestId: 'due-2', lane: 'slack:C_DUE', payload: {} },
          { kind: 'callback', requestId: 'due-up', lane: 'callback:ci/up.example', payload: {} },
        ],
        T0,
      ),
    );
    await pool.query('ANALYZE outbox');

    statements.length = 0;
    const lease = { at: Date.now(), ms: 15_000 };
    const got = await outbox.claim('w', T0 + 1000, { serial: 4, parallel: 4 }, lease);
    expect(got.map((r) => `${r.lane} ${r.requestId}`).sort()).toEqual([
      'callback:ci/dead.example due-dead',
      'callback:ci/up.example due-up',
      'slack:C_DUE due-1',
      'slack:C_REFUSING due-refusing',
    ]);
    // Read back with the claim undone (the plans are those of the claim just made).
    await outbox.release('w');
    const read = await rowsRead();
    expect(statements.length).toBeGreaterThan(0);
    expect(read).toBeLessThan(BACKLOG / 20);

    // Nothing not yet due is taken; a Slack lane goes on in order once its row is done.
    await store.transaction((t) =>
      t.outbox.markDone(
        'w',
        got.map((r) => r.id),
        T0 + 1000,
      ),
    );
    const next = await outbox.claim(
      'w',
      T0 + 2000,
      { serial: 4, parallel: 4 },
      { at: Date.now(), ms: 15_000 },
    );
    expect(next.map((r) => `${r.lane} ${r.requestId}`)).toEqual(['slack:C_DUE due-2']);
    await outbox.release('w');
  });
});
