import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { dropStoreFor, storeEnvFor } from '../support/test-store.js';

/**
 * Two replicas' outboxes on one PostgreSQL schema, with the interleaving that once let a second
 * replica post into a channel Slack had just rate limited: replica B starts a claim and reads the
 * lane pauses (none yet); replica A then commits its 429 (pause written, its claim released, in one
 * commit); B goes on. B must see the pause, not just the released claim.
 */
const dir = mkdtempSync(join(tmpdir(), 'countersign-outbox-pause-'));
let url = '';
let a: Store;
let b: Store;
const clients: pg.Client[] = [];

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  clients.push(c);
  return c;
}

beforeAll(async () => {
  url = (await storeEnvFor(dir)).DATABASE_URL as string;
  a = await openStore({ databaseUrl: url, databasePath: '' });
  b = await openStore({ databaseUrl: url, databasePath: '' });
});

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {});
  await a?.close();
  await b?.close();
  rmSync(dir, { recursive: true, force: true });
  await dropStoreFor(dir);
});

describe('outbox lanes across replicas', () => {
  it('a claim that began before another replica paused the lane does not take the next row of that lane', async () => {
    const lane = 'slack:C_PAUSED';
    const now = Date.now();
    await a.transaction((t) =>
      t.outbox.enqueue(
        [
          { kind: 'slack.post_card', requestId: 'req-1', lane, payload: { n: 1 } },
          { kind: 'slack.post_card', requestId: 'req-2', lane, payload: { n: 2 } },
        ],
        now,
      ),
    );
    const lease = () => ({ at: Date.now(), ms: 15_000 });
    const [first] = await a.outbox.claim('replica-a', now, { serial: 1, parallel: 0 }, lease());
    expect(first?.requestId).toBe('req-1');

    // Hold B's claim between its read of the pauses and its look at the lane: it reads
    // outbox_lanes first, then waits for this lock on outbox.
    const holder = await client();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE');
    const claimB = b.outbox.claim('replica-b', now, { serial: 1, parallel: 0 }, lease());
    const watcher = await client();
    for (let i = 0; ; i++) {
      const { rows } = await watcher.query(
        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%outbox%' AND pid <> pg_backend_pid()",
      );
      if (rows.length > 0) break;
      if (i > 200) throw new Error("replica B's claim never reached the outbox");
      await new Promise((r) => setTimeout(r, 25));
    }

    // Replica A's 429, as the worker commits it: the lane paused and its row handed back, at once.
    const until = Date.now() + 2000;
    await holder.query('INSERT INTO outbox_lanes (lane, paused_until) VALUES ($1, $2)', [lane, until]);
    await holder.query(
      'UPDATE outbox SET claimed_by = NULL, claimed_until = NULL, next_at = $2 WHERE id = $1',
      [first?.id, until],
    );
    await holder.query('COMMIT');

    expect(await claimB).toEqual([]);
    // Once the pause is over the lane goes on in its order, the refused row first.
    const later = await b.outbox.claim(
      'replica-b',
      until + 1,
      { serial: 1, parallel: 0 },
      { at: until + 1, ms: 15_000 },
    );
    expect(later.map((r) => r.requestId)).toEqual(['req-1']);
  });
});
