import { createPublicKey } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { verifyHashSignature } from '../../src/audit/chain.js';
import { Checkpointer } from '../../src/audit/checkpoints.js';
import { loadSigningKey } from '../../src/audit/keys.js';
import { verifyAuditFile } from '../../src/audit/open-readonly.js';
import {
  type AuditFixture,
  auditFixture,
  buildLog,
  clicker,
  events,
  newKeyPem,
  submit,
} from './audit-fixture.js';

const open: AuditFixture[] = [];
async function fixture(opts: Parameters<typeof auditFixture>[0] = {}): Promise<AuditFixture> {
  const f = await auditFixture(opts);
  open.push(f);
  return f;
}
afterEach(async () => {
  for (const f of open.splice(0)) await f.remove();
});

function rows(f: AuditFixture) {
  return events(f.database.sqlite);
}
const dataOf = (e: { data: string }) => JSON.parse(e.data) as Record<string, unknown>;

describe('key registration and rotation', () => {
  it('the first start registers the key, with its public half in the chain', async () => {
    const f = await fixture();
    const [first] = rows(f);
    expect(first).toMatchObject({ seq: 1, type: 'audit.key_registered', actor: 'system' });
    expect(dataOf(first as { data: string })).toEqual({
      key_id: f.key.keyId,
      public_key: f.key.publicKeyPem,
      source: expect.stringMatching(/^generated:.*audit-signing-key\.pem$/),
      previous_key_id: null,
    });
    expect(await f.database.transaction((t) => f.audit.registerKey(t, Date.now()))).toBe('unchanged');
    expect(rows(f)).toHaveLength(1);
  });

  it('a new AUDIT_SIGNING_KEY is registered; old keys stay and old signatures still verify', async () => {
    const a = await fixture();
    await buildLog(a);
    const keyA = a.key.keyId;
    await a.close();
    const pemB = newKeyPem();
    const b = await fixture({ dir: a.dir, keyPem: pemB });
    expect(b.key.keyId).not.toBe(keyA);
    const registration = rows(b).at(-1);
    expect(registration?.type).toBe('audit.key_registered');
    expect(dataOf(registration as { data: string })).toMatchObject({
      key_id: b.key.keyId,
      previous_key_id: keyA,
      source: 'AUDIT_SIGNING_KEY',
    });
    const id = await submit(b, Date.now());
    await b.approvals.vote(id, clicker('UBOB'), { decision: 'approve' }, Date.now());
    await b.checkpoints.take(Date.now(), 'manual');
    const keys = b.database.sqlite.prepare('SELECT key_id FROM audit_keys ORDER BY created_at').pluck().all();
    expect(keys).toEqual([keyA, b.key.keyId]);
    const signers = new Set(
      rows(b)
        .map((e) => e.key_id)
        .filter((k) => k !== null),
    );
    expect(signers).toEqual(new Set([keyA, b.key.keyId]));
    await b.close();

    // Back to the first key: announced as a re-activation, no second registration.
    const again = await fixture({ dir: a.dir, keyPem: readKey(a.dir) });
    expect(again.key.keyId).toBe(keyA);
    expect(rows(again).at(-1)).toMatchObject({ type: 'audit.key_activated' });
    expect(dataOf(rows(again).at(-1) as { data: string })).toMatchObject({
      key_id: keyA,
      previous_key_id: b.key.keyId,
    });
    await again.close();
    const result = await verifyAuditFile(again.dbPath);
    expect(result).toMatchObject({ ok: true, summary: { keys: 2 } });
  });
});

function readKey(dir: string): string {
  return loadSigningKey(null, `${dir}/countersign.db`)
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

describe('the policy in force at start', () => {
  it('is recorded when it differs from the last recorded one', async () => {
    const f = await fixture();
    const record = (p: { path: string; hash: string } | null) =>
      f.database.transaction((t) => f.audit.recordPolicyInForce(t, p, Date.now()));
    expect(await record(null)).toBe(false);
    expect(await record({ path: 'policy.yml', hash: 'h1' })).toBe(true);
    expect(await record({ path: 'policy.yml', hash: 'h1' })).toBe(false);
    await f.database.transaction((t) =>
      f.audit.append(
        t,
        { type: 'config.policy_reloaded', actor: 'system', data: { path: 'p', hash: 'h2' } },
        1,
      ),
    );
    expect(await record({ path: 'policy.yml', hash: 'h2' })).toBe(false);
    expect(await record({ path: 'policy.yml', hash: 'h3' })).toBe(true);
    expect(await record(null)).toBe(true);
    const loaded = rows(f)
      .filter((e) => e.type === 'config.policy_loaded')
      .map(dataOf);
    expect(loaded).toEqual([
      { path: 'policy.yml', hash: 'h1', previous_hash: null },
      { path: 'policy.yml', hash: 'h3', previous_hash: 'h2' },
      { path: null, hash: null, previous_hash: 'h3' },
    ]);
  });
});

describe('checkpoints', () => {
  it('a checkpoint is the signed audit.checkpoint event, stored with its seq, hash, time and signature', async () => {
    const f = await fixture();
    const seen: number[] = [];
    const checkpoints = new Checkpointer({
      store: f.database,
      audit: f.audit,
      onCheckpoint: async (_t, cp) => {
        expect(f.database.sqlite.inTransaction).toBe(true);
        seen.push(cp.seq);
      },
    });
    await submit(f, 1_000);
    const cp = await checkpoints.take(2_000, 'periodic');
    if (!cp) throw new Error('no checkpoint');
    const event = rows(f).at(-1);
    expect(event).toMatchObject({ seq: cp.seq, hash: cp.hash, at: 2_000, type: 'audit.checkpoint' });
    expect(event?.signature).toBe(cp.signature);
    expect(dataOf(event as { data: string })).toEqual({ reason: 'periodic', previous_checkpoint: null });
    expect(verifyHashSignature(cp.hash, cp.signature, createPublicKey(f.key.publicKeyPem))).toBe(true);
    const row = f.database.sqlite.prepare('SELECT * FROM audit_checkpoints').get();
    expect(row).toEqual({
      id: cp.id,
      seq: cp.seq,
      head_hash: cp.hash,
      at: 2_000,
      key_id: f.key.keyId,
      signature: cp.signature,
      slack_ts: null,
    });
    expect(seen).toEqual([cp.seq]);
  });

  it('is taken only when something was recorded since the last one', async () => {
    const f = await fixture();
    const first = await f.checkpoints.take(1, 'periodic');
    expect(first).not.toBeNull();
    expect(await f.checkpoints.take(2, 'periodic')).toBeNull();
    expect(await f.checkpoints.take(3, 'shutdown')).toBeNull();
    await submit(f, 4);
    const second = await f.checkpoints.take(5, 'shutdown');
    expect(second?.seq).toBe((first?.seq ?? 0) + 2);
    expect(dataOf(rows(f).at(-1) as { data: string })).toEqual({
      reason: 'shutdown',
      previous_checkpoint: { seq: first?.seq, hash: first?.hash },
    });
  });

  it('the timer takes periodic checkpoints and stops', async () => {
    const f = await fixture();
    const taken: number[] = [];
    const timer = f.checkpoints.schedule({
      intervalMs: 10,
      now: Date.now,
      onError: (err) => {
        throw err;
      },
      afterTake: (cp) => taken.push(cp.seq),
    });
    await new Promise((r) => setTimeout(r, 60));
    await submit(f, Date.now());
    await new Promise((r) => setTimeout(r, 60));
    timer.stop();
    expect(taken).toHaveLength(2);
    const count = () => f.database.sqlite.prepare('SELECT count(*) FROM audit_checkpoints').pluck().get();
    expect(count()).toBe(2);
    await submit(f, Date.now());
    await new Promise((r) => setTimeout(r, 40));
    expect(count()).toBe(2);
  });

  it('an empty log gets no checkpoint', async () => {
    const f = await fixture();
    f.database.sqlite.prepare('DELETE FROM audit_events').run();
    expect(await f.checkpoints.take(1, 'manual')).toBeNull();
    void AuditLog;
  });
});
