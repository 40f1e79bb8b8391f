import type Database from 'better-sqlite3';
import { SqliteAudit } from './audit-repo.js';
import { openDatabase } from './db.js';
import { ListingRepo } from './listing-repo.js';
import { SqliteOutbox } from './outbox-repo.js';
import { SqliteRequests } from './requests-repo.js';
import { openSqliteAuditReader } from './sqlite-audit-reader.js';
import { StatsRepo } from './stats-repo.js';
import type { Store, Tx } from './store.js';

interface Grouped {
  fn: (t: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** SQLite's transaction control, prepared once. */
function control(sqlite: Database.Database) {
  const s = (text: string) => sqlite.prepare(text);
  return {
    begin: s('BEGIN IMMEDIATE'),
    commit: s('COMMIT'),
    rollback: s('ROLLBACK'),
    savepoint: s('SAVEPOINT grouped'),
    release: s('RELEASE grouped'),
    rollbackTo: s('ROLLBACK TO grouped'),
  };
}

/**
 * The SQLite store: one connection, one process. Transactions are serialised by an in-process
 * queue: each runs `BEGIN IMMEDIATE ... COMMIT` on the connection while the next waits. Statements
 * run synchronously, so the awaits inside a transaction settle at once and a transaction holds
 * the queue for as long as its statements take. Group commit (`transactionGrouped`) runs the
 * calls of one event-loop turn in savepoints of one transaction.
 */
/** The SQLite store, with its connection for tools that read the file directly (benches, tests). */
export type SqliteStore = Store & { sqlite: Database.Database };

export function openSqliteStore(
  path: string,
  opts: { migrate?: boolean } = {},
): Store & { sqlite: Database.Database } {
  const { sqlite, db, close } = openDatabase(path, opts);
  const c = control(sqlite);
  const t: Tx = {
    requests: new SqliteRequests(db),
    outbox: new SqliteOutbox(db),
    audit: new SqliteAudit(db),
    announceDecision: async () => {},
  };
  let tail: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(body: () => Promise<T>): Promise<T> => {
    const run = tail.then(body, body);
    tail = run.catch(() => {});
    return run;
  };
  const inTransaction = async <T>(fn: (t: Tx) => Promise<T>): Promise<T> => {
    if (!sqlite.open) throw new Error('the database is closed');
    c.begin.run();
    try {
      const value = await fn(t);
      c.commit.run();
      return value;
    } catch (err) {
      if (sqlite.inTransaction) c.rollback.run();
      throw err;
    }
  };

  let group: Grouped[] = [];
  const flush = () => {
    const batch = group;
    group = [];
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    enqueue(() =>
      inTransaction(async () => {
        for (const item of batch) {
          c.savepoint.run();
          try {
            outcomes.push({ ok: true, value: await item.fn(t) });
            c.release.run();
          } catch (error) {
            c.rollbackTo.run();
            c.release.run();
            outcomes.push({ ok: false, error });
          }
        }
      }),
    ).then(
      () =>
        batch.forEach((item, i) => {
          const outcome = outcomes[i];
          if (outcome?.ok) item.resolve(outcome.value);
          else item.reject(outcome?.error);
        }),
      (error: unknown) => {
        for (const item of batch) item.reject(error);
      },
    );
  };

  return {
    dialect: 'sqlite',
    where: path,
    sqlite,
    ...t,
    listing: new ListingRepo(db),
    stats: new StatsRepo(db),
    transaction: (fn) => enqueue(() => inTransaction(fn)),
    transactionGrouped: <T>(fn: (t: Tx) => Promise<T>) =>
      new Promise<T>((resolve, reject) => {
        group.push({ fn, resolve: resolve as (value: unknown) => void, reject });
        // After this turn's I/O callbacks: every call they made joins the same transaction.
        if (group.length === 1) setImmediate(flush);
      }),
    async query<T>(text: string, params: unknown[] = []): Promise<T[]> {
      const stmt = sqlite.prepare(text);
      if (stmt.reader) return stmt.all(...params) as T[];
      stmt.run(...params);
      return [];
    },
    onDecision: () => {},
    onDecisionsMissed: () => {},
    decisionPollMs: () => null,
    openAuditReader: async () => openSqliteAuditReader(path),
    async close() {
      await tail;
      close();
    },
  };
}
