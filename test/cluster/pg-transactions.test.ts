import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Approvals } from '../../src/approvals/service.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadSigningKey } from '../../src/audit/keys.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { input, TEST_WORKSPACE } from '../support/service.js';
import { dropStoreFor, storeEnvFor } from '../support/test-store.js';

/**
 * Transactions on PostgreSQL racing as replicas do: calls of one turn (`transactionGrouped`, what
 * the API's intake uses) and separate transactions on one unique key. The loser of a unique race is
 * retried and then sees the winner's row; a call that throws fails alone.
 */
const T0 = 1_800_000_000_000;
const dir = mkdtempSync(join(tmpdir(), 'countersign-pg-tx-'));
let store: Store;
let approvals: Approvals;

beforeAll(async () => {
  const url = (await storeEnvFor(dir)).DATABASE_URL as string;
  store = await openStore({ databaseUrl: url, databasePath: '' });
  const audit = new AuditLog(loadSigningKey(null, join(dir, 'countersign.db')));
  await store.transaction((t) => audit.registerKey(t, Date.now()));
  approvals = new Approvals({
    store,
    audit,
    defaultChannel: 'C0TEST',
    policy: null,
    workspace: TEST_WORKSPACE,
  });
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
  await dropStoreFor(dir);
});

const submit = (key: string, sha: string, title = key) =>
  approvals.submitGrouped('ci', key, sha.repeat(64), input({ title }), T0);

describe('grouped calls on PostgreSQL', () => {
  it('a call that throws rejects alone; the others of its turn are committed, and nothing of it is', async () => {
    const results = await Promise.allSettled([
      submit('t1', 'b'),
      store.transactionGrouped(async (t) => {
        await t.audit.insertKey('k-thrown', 'pem', T0);
        throw new Error('boom');
      }),
      submit('t2', 'c'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'boom' });
    const ids = results.flatMap((r) =>
      r.status === 'fulfilled' && (r.value as { kind: string }).kind === 'created'
        ? [(r.value as { request: { id: string } }).request.id]
        : [],
    );
    expect(ids).toHaveLength(2);
    for (const id of ids) expect((await store.requests.get(id))?.status).toBe('pending');
    expect(await store.query("SELECT key_id FROM audit_keys WHERE key_id = 'k-thrown'")).toEqual([]);
    const seqs = (await store.query<{ seq: number }>('SELECT seq FROM audit_events ORDER BY seq')).map((r) =>
      Number(r.seq),
    );
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('the same webhook-id twice in one turn is one request, whichever call wins', async () => {
    const shas = ['d', 'd', 'e'];
    const results = await Promise.all(shas.map((sha) => submit('same', sha)));
    const winner = results.findIndex((r) => r.kind === 'created');
    expect(results.filter((r) => r.kind === 'created')).toHaveLength(1);
    const won = results[winner];
    if (won?.kind !== 'created') throw new Error('no request was created');
    results.forEach((r, i) => {
      if (i === winner) return;
      // The same bytes again are a replay of the winner; other bytes under its key are refused.
      if (shas[i] === shas[winner])
        expect(r).toMatchObject({ kind: 'replayed', request: { id: won.request.id } });
      else expect(r.kind).toBe('idempotency_conflict');
    });
  });
});

describe('separate transactions on PostgreSQL', () => {
  it('the same webhook-id in concurrent transactions is one request: the loser of the unique race is retried', async () => {
    // `submit` commits alone, so these race as two replicas would; drizzle wraps the 23505 the
    // loser's insert gets, and the retry must still recognise it.
    const one = (sha: string) =>
      approvals.submit('ci', 'raced', sha.repeat(64), input({ title: 'raced' }), T0);
    const results = await Promise.all([one('f'), one('f'), one('f'), one('f')]);
    const kinds = results.map((r) => r.kind).sort();
    expect(kinds).toEqual(['created', 'replayed', 'replayed', 'replayed']);
    const ids = new Set(
      results.map((r) => (r.kind === 'created' || r.kind === 'replayed' ? r.request.id : '')),
    );
    expect(ids.size).toBe(1);
  });
});
