import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Approvals } from '../../src/approvals/service.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { GENESIS_HASH, signHash, storedEventHash } from '../../src/audit/chain.js';
import { Checkpointer } from '../../src/audit/checkpoints.js';
import type { ExportRow } from '../../src/audit/export.js';
import { loadSigningKey, type SigningKey } from '../../src/audit/keys.js';
import { type CreateRequestInput, parseCreateRequest } from '../../src/core/request-schema.js';
import type { Clicker } from '../../src/core/types.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { person, TEST_WORKSPACE } from '../support/service.js';

/** The approvals service, audit log and checkpoints on a temp database: no HTTP, no Slack. */
export interface AuditFixture {
  dir: string;
  dbPath: string;
  /** The store (its `sqlite` connection for direct reads). */
  database: ReturnType<typeof openSqliteStore>;
  key: SigningKey;
  audit: AuditLog;
  approvals: Approvals;
  checkpoints: Checkpointer;
  /** Closes the database (the folder stays until `remove`). */
  close(): Promise<void>;
  remove(): Promise<void>;
}

export async function auditFixture(
  opts: { dir?: string; keyPem?: string; now?: number } = {},
): Promise<AuditFixture> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'countersign-audit-'));
  const dbPath = join(dir, 'countersign.db');
  const key = loadSigningKey(opts.keyPem ?? null, dbPath);
  const database = openSqliteStore(dbPath);
  const audit = new AuditLog(key);
  await database.transaction((t) => audit.registerKey(t, opts.now ?? Date.now()));
  const approvals = new Approvals({
    store: database,
    audit,
    defaultChannel: 'C0TEST',
    policy: null,
    workspace: TEST_WORKSPACE,
  });
  const checkpoints = new Checkpointer({ store: database, audit });
  return {
    dir,
    dbPath,
    database,
    key,
    audit,
    approvals,
    checkpoints,
    close: () => database.close(),
    remove: async () => {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function newKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function requestInput(over: Record<string, unknown> = {}): CreateRequestInput {
  const parsed = parseCreateRequest({
    action: 'db.export',
    title: 'Export the customers table',
    requester: { slack_user_id: 'UALICE', name: 'Alice Asker' },
    ...over,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

export function clicker(userId: string, over: Partial<Clicker> = {}): Clicker {
  return person(userId, { name: `Name of ${userId}`, ...over });
}

let webhook = 0;

export async function submit(
  f: Pick<AuditFixture, 'approvals'>,
  now: number,
  over: Record<string, unknown> = {},
): Promise<string> {
  webhook += 1;
  const result = await f.approvals.submit(
    'ci',
    `msg_${webhook}`,
    `${'ab'.repeat(31)}${webhook % 100}`,
    requestInput(over),
    now,
  );
  if (result.kind !== 'created') throw new Error(`not created: ${result.kind}`);
  return result.request.id;
}

/**
 * A realistic log: every kind of decision, refusals, a policy-free quorum of two, an expiry, a
 * cancel, and checkpoints in between. Times advance one second per step from `start`.
 */
export async function buildLog(f: AuditFixture, start = Date.UTC(2025, 0, 1)): Promise<number> {
  let now = start;
  const tick = () => {
    now += 1000;
    return now;
  };
  const a = await submit(f, tick());
  await f.approvals.vote(a, clicker('UALICE'), { decision: 'approve' }, tick()); // refused: requester
  await f.approvals.vote(a, clicker('UBOB'), { decision: 'approve' }, tick()); // approved
  const b = await submit(f, tick(), { min_approvals: 2 });
  await f.approvals.vote(b, clicker('UBOB'), { decision: 'approve' }, tick());
  await f.approvals.vote(b, clicker('UBOB'), { decision: 'approve' }, tick()); // refused: already voted
  await f.checkpoints.take(tick(), 'periodic');
  await f.approvals.vote(b, clicker('UCAROL'), { decision: 'approve' }, tick()); // approved, 2 of 2
  const c = await submit(f, tick());
  await f.approvals.vote(c, clicker('UDAVE'), { decision: 'deny', reason: 'not during the freeze' }, tick());
  const d = await submit(f, tick());
  await f.approvals.cancel(d, 'client:ci', 'superseded', tick(), 'ci');
  const e = await submit(f, tick(), { ttl_seconds: 10 });
  now += 20_000;
  await f.approvals.expireDue(tick());
  await f.checkpoints.take(tick(), 'periodic');
  const g = await submit(f, tick());
  await f.approvals.vote(g, clicker('UGUEST', { isRestricted: true }), { decision: 'approve' }, tick());
  await f.approvals.vote(g, clicker('UCAROL'), { decision: 'approve' }, tick());
  await f.checkpoints.take(tick(), 'shutdown');
  void e;
  return now;
}

/** A copy of the (closed) database to tamper with, opened read-write. */
export function tamperCopy(f: AuditFixture, name: string): { path: string; db: Database.Database } {
  const path = join(f.dir, `${name}.db`);
  copyFileSync(f.dbPath, path);
  return { path, db: new Database(path) };
}

export type EventRow = ExportRow;

export function events(db: Database.Database): EventRow[] {
  return db.prepare('SELECT * FROM audit_events ORDER BY seq').all() as EventRow[];
}

/** The seq of the `n`th (0-based) event of `type`. */
export function seqOf(db: Database.Database, type: string, n = 0): number {
  const row = db
    .prepare('SELECT seq FROM audit_events WHERE type = ? ORDER BY seq LIMIT 1 OFFSET ?')
    .get(type, n) as { seq: number } | undefined;
  if (!row) throw new Error(`no ${type} #${n}`);
  return row.seq;
}

/**
 * What an attacker with write access but without the server's private key can do: recompute every
 * hash and prev_hash from `fromSeq` on, so the chain itself links again. Signed events keep their
 * old signatures unless `signer` is given, which re-signs them (and names its key id).
 */
export function rechain(
  db: Database.Database,
  fromSeq: number,
  signer?: { keyId: string; sign: (hash: string) => string },
): void {
  const rows = events(db);
  let prev = rows.find((r) => r.seq === fromSeq - 1)?.hash ?? GENESIS_HASH;
  const update = db.prepare(
    'UPDATE audit_events SET prev_hash = ?, hash = ?, key_id = ?, signature = ? WHERE seq = ?',
  );
  for (const r of rows) {
    if (r.seq < fromSeq) continue;
    const keyId = signer && r.key_id !== null ? signer.keyId : r.key_id;
    const hash = storedEventHash(prev, { ...r, key_id: keyId });
    const signature = signer && r.signature !== null ? signer.sign(hash) : r.signature;
    update.run(prev, hash, keyId, signature, r.seq);
    prev = hash;
  }
}

export function signerFor(key: SigningKey) {
  return { keyId: key.keyId, sign: (hash: string) => signHash(hash, key.privateKey) };
}

/** Closes the gaps left by deleted events: seqs become 1..n again, in the same order. */
export function renumber(db: Database.Database): void {
  const seqs = db.prepare('SELECT seq FROM audit_events ORDER BY seq').pluck().all() as number[];
  const set = db.prepare('UPDATE audit_events SET seq = ? WHERE seq = ?');
  for (const [i, seq] of seqs.entries()) set.run(-(i + 1), seq);
  db.prepare('UPDATE audit_events SET seq = -seq WHERE seq < 0').run();
}
