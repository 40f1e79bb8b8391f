import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { prepareDatabaseFile } from './file-modes.js';
import { packageRoot } from './package-root.js';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema>;

export interface OpenDatabase {
  sqlite: Database.Database;
  db: Db;
  /** Runs `fn` in one synchronous IMMEDIATE transaction (never await inside). */
  tx<T>(fn: () => T): T;
  /**
   * Like `tx`, but shares one IMMEDIATE transaction with the other calls made in the same
   * event-loop turn (group commit): each `fn` runs in a savepoint of its own, so a throw undoes only
   * its own changes and rejects only its own promise; every promise settles after the shared COMMIT.
   * Under load this turns a commit per call into a commit per turn.
   */
  txGrouped<T>(fn: () => T): Promise<T>;
  close(): void;
}

interface Grouped {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** Runs each queued function in a savepoint of one immediate transaction, then settles them. */
function runGroup(sqlite: Database.Database, group: Grouped[]): void {
  const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
  try {
    sqlite
      .transaction(() => {
        for (const item of group) {
          try {
            // Nested in a transaction, better-sqlite3 runs this as SAVEPOINT ... RELEASE (or ROLLBACK TO).
            outcomes.push({ ok: true, value: sqlite.transaction(item.fn)() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      })
      .immediate();
  } catch (error) {
    for (const item of group) item.reject(error);
    return;
  }
  group.forEach((item, i) => {
    const outcome = outcomes[i];
    if (outcome?.ok) item.resolve(outcome.value);
    else item.reject(outcome?.error);
  });
}

/**
 * Opens (creating folder 0700 and file 0600 if missing) the SQLite database, sets WAL, busy_timeout and
 * foreign keys, and applies the migrations committed under `drizzle/`.
 */
export function openDatabase(path: string, opts: { migrate?: boolean } = {}): OpenDatabase {
  prepareDatabaseFile(path);
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  const db = drizzle(sqlite, { schema });
  if (opts.migrate !== false) migrate(db, { migrationsFolder: join(packageRoot(), 'drizzle') });
  let group: Grouped[] = [];
  const flush = () => {
    const batch = group;
    group = [];
    if (sqlite.open) runGroup(sqlite, batch);
    else for (const item of batch) item.reject(new Error('the database is closed'));
  };
  return {
    sqlite,
    db,
    tx: <T>(fn: () => T): T => sqlite.transaction(fn).immediate(),
    txGrouped: <T>(fn: () => T): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        group.push({ fn, resolve: resolve as (value: unknown) => void, reject });
        // After this turn's I/O callbacks: every call they made joins the same transaction.
        if (group.length === 1) setImmediate(flush);
      }),
    close: () => {
      if (sqlite.open) sqlite.close();
    },
  };
}
