import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Approvals } from '../../src/approvals/service.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Checkpointer } from '../../src/audit/checkpoints.js';
import { loadSigningKey } from '../../src/audit/keys.js';
import { verifyAuditFile } from '../../src/audit/open-readonly.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { input, TEST_WORKSPACE } from '../support/service.js';
import { dropStoreFor, storeEnvFor, storeRefFor, TEST_STORE } from '../support/test-store.js';

/**
 * Periodic checkpoints with two writers on one store, as replicas have (CONTRACT §9: checkpoints
 * happen once). Each writer is a store connection of its own with its own Checkpointer, as each
 * replica has; on SQLite two connections to one file, on PostgreSQL (project `postgres`) one schema.
 */
const INTERVAL = 600_000;
/** An hour ago: the timers of the last test, on the real clock, come after every checkpoint here. */
const T0 = Date.now() - 3_600_000;
const dir = mkdtempSync(join(tmpdir(), 'countersign-checkpoint-writers-'));

interface Writer {
  store: Store;
  approvals: Approvals;
  checkpoints: Checkpointer;
}
const writers: Writer[] = [];
let made = 0;

beforeAll(async () => {
  const env = await storeEnvFor(dir);
  const target = { databaseUrl: env.DATABASE_URL ?? null, databasePath: env.DATABASE_PATH as string };
  const key = loadSigningKey(null, join(dir, 'countersign.db'));
  for (let i = 0; i < 2; i++) {
    const store = await openStore(target);
    const audit = new AuditLog(key);
    await store.transaction((t) => audit.registerKey(t, T0));
    const approvals = new Approvals({
      store,
      audit,
      defaultChannel: 'C0TEST',
      policy: null,
      workspace: TEST_WORKSPACE,
    });
    writers.push({ store, approvals, checkpoints: new Checkpointer({ store, audit }) });
  }
});
afterAll(async () => {
  for (const w of writers) await w.store.close();
  rmSync(dir, { recursive: true, force: true });
  await dropStoreFor(dir);
});

/** Something for a checkpoint to cover: a request made through `w` at `now`. */
async function traffic(w: Writer, now: number): Promise<void> {
  made += 1;
  const sha = createHash('sha256').update(String(made)).digest('hex');
  const r = await w.approvals.submit('ci', `msg_cp_${made}`, sha, input({ title: `Traffic ${made}` }), now);
  if (r.kind !== 'created') throw new Error(`not created: ${r.kind}`);
}

const count = async () =>
  Number(
    (await writers[0]?.store.query<{ n: number }>('SELECT count(*) AS n FROM audit_checkpoints'))?.[0]?.n,
  );

describe('periodic checkpoints with two writers', () => {
  it("a periodic take soon after another writer's is skipped; a manual one is not; a due one is taken", async () => {
    const [a, b] = writers as [Writer, Writer];
    await traffic(a, T0 + 1_000);
    const first = await a.checkpoints.takePeriodic(T0 + 2_000, INTERVAL);
    expect(first).not.toBeNull();

    // B's timer started a minute after A's: new events since, but A checkpointed a minute ago.
    await traffic(b, T0 + 30_000);
    expect(await b.checkpoints.takePeriodic(T0 + 62_000, INTERVAL)).toBeNull();
    // Just short of 0.9 of the interval since A's: still skipped.
    expect(await b.checkpoints.takePeriodic(T0 + 2_000 + 0.9 * INTERVAL - 1, INTERVAL)).toBeNull();
    expect(await count()).toBe(1);

    // An explicit checkpoint is not held back by the periodic rule.
    const manual = await b.checkpoints.take(T0 + 63_000, 'manual');
    expect(manual).not.toBeNull();
    expect(await count()).toBe(2);

    // A full interval after the latest checkpoint (the manual one), with new events: taken.
    await traffic(a, T0 + 64_000);
    expect(await a.checkpoints.takePeriodic(T0 + 63_000 + 0.5 * INTERVAL, INTERVAL)).toBeNull();
    const due = await b.checkpoints.takePeriodic(T0 + 63_000 + INTERVAL, INTERVAL);
    expect(due).not.toBeNull();
    expect(due?.seq).toBeGreaterThan(manual?.seq ?? Number.POSITIVE_INFINITY);

    // Both timers firing at the same moment, an interval later: one checkpoint. (Two connections to
    // one SQLite file in one thread cannot both be in a transaction, so there one follows the other.)
    await traffic(b, T0 + 70_000 + INTERVAL);
    const at = T0 + 63_000 + 2 * INTERVAL;
    const both =
      TEST_STORE === 'postgres'
        ? await Promise.all(writers.map((w) => w.checkpoints.takePeriodic(at, INTERVAL)))
        : [await a.checkpoints.takePeriodic(at, INTERVAL), await b.checkpoints.takePeriodic(at, INTERVAL)];
    expect(both.filter((c) => c !== null)).toHaveLength(1);
    expect(await count()).toBe(4);

    const verified = await verifyAuditFile(storeRefFor(dir));
    if (!verified.ok) throw new Error(JSON.stringify(verified.problem));
  });

  it('two timers started half an interval apart take one checkpoint per interval between them', async () => {
    const intervalMs = 100;
    const before = await count();
    const timers: { stop(): void }[] = [];
    const stopTraffic = { stopped: false };
    const busy = (async () => {
      for (let i = 0; !stopTraffic.stopped; i++) {
        await traffic(writers[i % 2] as Writer, Date.now());
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const started = Date.now();
    for (const w of writers) {
      timers.push(
        w.checkpoints.schedule({
          intervalMs,
          now: Date.now,
          onError: (err) => {
            throw err;
          },
        }),
      );
      await new Promise((r) => setTimeout(r, intervalMs / 2));
    }
    await new Promise((r) => setTimeout(r, 1_000));
    for (const t of timers) t.stop();
    const elapsed = Date.now() - started;
    stopTraffic.stopped = true;
    await busy;
    await new Promise((r) => setTimeout(r, 50)); // a take in flight when the timers stopped
    const taken = (await count()) - before;
    expect(taken).toBeGreaterThanOrEqual(1);
    // At most one per 0.9 of the interval, whichever timer fires; two each would be about twice this.
    expect(taken).toBeLessThanOrEqual(Math.floor(elapsed / (0.9 * intervalMs)) + 1);
  });
});
