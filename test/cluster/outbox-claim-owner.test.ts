import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { dropStoreFor, storeEnvFor } from '../support/test-store.js';

/**
 * Two replicas' outboxes on one PostgreSQL schema. Replica A's lease on a Slack row runs out while
 * it still works on it (a stalled process), B claims the row, then A's late word arrives: only the
 * holder of a claim settles it, so A cannot hand B's row to a third replica while B still runs it.
 */
const dir = mkdtempSync(join(tmpdir(), 'countersign-outbox-owner-'));
const T0 = 1_800_000_000_000;
const LANE = 'slack:C_OWNER';
const WANT = { serial: 1, parallel: 0 };
let a: Store;
let b: Store;

beforeAll(async () => {
  const url = (await storeEnvFor(dir)).DATABASE_URL as string;
  a = await openStore({ databaseUrl: url, databasePath: '' });
  b = await openStore({ databaseUrl: url, databasePath: '' });
});

beforeEach(async () => {
  await a.query('DELETE FROM outbox');
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  rmSync(dir, { recursive: true, force: true });
  await dropStoreFor(dir);
});

const claimOf = async (id: number) =>
  (
    await a.query<{
      by: string | null;
      until: number | null;
      next: number;
      attempts: number;
      gave: number | null;
    }>(
      'SELECT claimed_by AS by, claimed_until AS until, next_at AS next, attempts, gave_up_at AS gave FROM outbox WHERE id = $1',
      [id],
    )
  )[0];

describe('settling a claimed outbox row across replicas', () => {
  it("a late retryLater or giveUp from a replica whose lease ran out leaves the new holder's claim alone", async () => {
    await a.transaction((t) =>
      t.outbox.enqueue(
        [
          { kind: 'slack.post_card', requestId: 'req-1', lane: LANE, payload: { n: 1 } },
          { kind: 'slack.post_card', requestId: 'req-2', lane: LANE, payload: { n: 2 } },
        ],
        T0,
      ),
    );
    const at = Date.now();
    const [row] = await a.outbox.claim('replica-a', T0, WANT, { at, ms: 1000 });
    if (!row) throw new Error('replica A claimed nothing');
    // A's lease runs out; B takes the row over.
    const taken = await b.outbox.claim('replica-b', T0, WANT, { at: at + 1000, ms: 15_000 });
    expect(taken.map((r) => r.id)).toEqual([row.id]);

    // A's late outcome: neither schedules the row nor drops B's claim.
    expect(
      await a.transaction((t) => t.outbox.retryLater('replica-a', row.id, T0 + 60_000, 'timed out')),
    ).toBe(false);
    expect(await a.transaction((t) => t.outbox.giveUp('replica-a', row.id, T0, 'timed out'))).toBe(false);
    expect(await claimOf(row.id)).toMatchObject({ by: 'replica-b', next: T0, attempts: 0, gave: null });
    // So a third replica finds the lane busy while B works on it.
    expect(await a.outbox.claim('replica-c', T0, WANT, { at: at + 1001, ms: 15_000 })).toEqual([]);

    // B's own outcome applies.
    expect(
      await b.transaction((t) => t.outbox.retryLater('replica-b', row.id, T0 + 5000, 'slack said no')),
    ).toBe(true);
    expect(await claimOf(row.id)).toMatchObject({ by: null, until: null, next: T0 + 5000, attempts: 1 });
  });

  it('a late markDone counts (the work was done) but leaves the lane busy while the new holder runs the row', async () => {
    const lane = 'slack:C_DONE';
    await a.transaction((t) =>
      t.outbox.enqueue(
        [
          { kind: 'slack.post_card', requestId: 'req-3', lane, payload: { n: 3 } },
          { kind: 'slack.post_card', requestId: 'req-4', lane, payload: { n: 4 } },
        ],
        T0,
      ),
    );
    const at = Date.now();
    const [row] = await a.outbox.claim('replica-a', T0, WANT, { at, ms: 1000 });
    if (!row) throw new Error('replica A claimed nothing');
    expect(row.requestId).toBe('req-3');
    const taken = await b.outbox.claim('replica-b', T0, WANT, { at: at + 1000, ms: 15_000 });
    expect(taken.map((r) => r.id)).toEqual([row.id]);

    await a.transaction((t) => t.outbox.markDone('replica-a', [row.id], T0));
    expect((await a.outbox.openIds('req-3', 'slack.post_card')).length).toBe(0);
    // B still runs req-3: the lane's next row waits for it.
    expect(await a.outbox.claim('replica-c', T0, WANT, { at: at + 1001, ms: 15_000 })).toEqual([]);
    // B's outcome finds the row done: nothing recorded, its claim dropped, and the lane goes on.
    expect(await b.transaction((t) => t.outbox.retryLater('replica-b', row.id, T0 + 5000, 'duplicate'))).toBe(
      false,
    );
    expect(await claimOf(row.id)).toMatchObject({ by: null, until: null, next: T0, attempts: 0 });
    const next = await a.outbox.claim('replica-c', T0, WANT, { at: at + 1002, ms: 15_000 });
    expect(next.map((r) => r.requestId)).toEqual(['req-4']);
  });
});
