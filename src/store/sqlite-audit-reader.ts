import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import {
  AUDIT_BATCH,
  AUDIT_EVENT_COLUMNS,
  AUDIT_TABLES,
  type AuditCheckpointRow,
  AuditDatabaseError,
  type AuditReader,
} from './audit-reader.js';

/**
 * Opens the SQLite file read-only (it is never migrated or written here), after checking that it
 * exists and holds the audit tables, and reads it in one read transaction: one consistent snapshot
 * while a server keeps writing through its own connection.
 */
export function openSqliteAuditReader(path: string): AuditReader {
  const where = `${path}${resolve(path) === path ? '' : ` (${resolve(path)})`}`;
  if (!existsSync(path))
    throw new AuditDatabaseError(
      `no database at ${where}. Set DATABASE_PATH (in the environment or .env) to the server's database file, or pass --database <path>.`,
    );
  if (!statSync(path).isFile())
    throw new AuditDatabaseError(`${where} is not a file; DATABASE_PATH must name the SQLite file.`);
  let sqlite: Database.Database;
  try {
    sqlite = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new AuditDatabaseError(`cannot open ${where}: ${(err as Error).message}. Check its permissions.`);
  }
  try {
    sqlite.pragma('busy_timeout = 5000');
    const found = sqlite
      .prepare(
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${AUDIT_TABLES.map(() => '?').join(',')})`,
      )
      .pluck()
      .all(...AUDIT_TABLES) as string[];
    const missing = AUDIT_TABLES.filter((t) => !found.includes(t));
    if (missing.length > 0)
      throw new AuditDatabaseError(
        `${where} has no ${missing.join(', ')} table: it is not a Countersign database, or it was never migrated (run "npx countersign migrate" or start the server once).`,
      );
    sqlite.exec('BEGIN');
  } catch (err) {
    sqlite.close();
    if (err instanceof AuditDatabaseError) throw err;
    throw new AuditDatabaseError(`cannot read ${where}: ${(err as Error).message}. Is it a SQLite database?`);
  }
  return sqliteAuditReader(sqlite, where);
}

function sqliteAuditReader(sqlite: Database.Database, where: string): AuditReader {
  const cols = AUDIT_EVENT_COLUMNS.join(', ');
  return {
    where,
    async keys() {
      return sqlite
        .prepare('SELECT key_id, public_key, created_at FROM audit_keys ORDER BY created_at, key_id')
        .all() as { key_id: string; public_key: string; created_at: number }[];
    },
    async lastData(types) {
      return (
        (sqlite
          .prepare(
            `SELECT data FROM audit_events WHERE type IN (${types.map(() => '?').join(',')}) ORDER BY seq DESC LIMIT 1`,
          )
          .pluck()
          .get(...types) as string | undefined) ?? null
      );
    },
    async checkpoints() {
      return sqlite
        .prepare('SELECT id, seq, head_hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq, id')
        .all() as AuditCheckpointRow[];
    },
    async maxSeq() {
      return (sqlite.prepare('SELECT max(seq) FROM audit_events').pluck().get() as number | null) ?? 0;
    },
    async *events(from = {}) {
      // Keyset pages on the primary key read with all(): about half the cost of stepping row by row,
      // and memory stays flat on any log size.
      const page = sqlite
        .prepare(
          from.atOrAfter === undefined
            ? `SELECT ${cols} FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`
            : `SELECT ${cols} FROM audit_events WHERE seq > ? AND at >= ? ORDER BY seq LIMIT ?`,
        )
        .raw(true);
      const read = (after: unknown) =>
        (from.atOrAfter === undefined
          ? page.all(after, AUDIT_BATCH)
          : page.all(after, from.atOrAfter, AUDIT_BATCH)) as unknown[][];
      let batch = read(from.afterSeq ?? 0);
      while (batch.length > 0) {
        yield batch;
        if (batch.length < AUDIT_BATCH) return;
        batch = read(batch[batch.length - 1]?.[0]);
      }
    },
    async event(seq) {
      return (
        (sqlite.prepare('SELECT type, key_id FROM audit_events WHERE seq = ?').get(seq) as
          | { type: string; key_id: string | null }
          | undefined) ?? null
      );
    },
    async close() {
      if (!sqlite.open) return;
      if (sqlite.inTransaction) sqlite.exec('COMMIT');
      sqlite.close();
    },
  };
}
