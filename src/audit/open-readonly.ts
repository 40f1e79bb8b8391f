import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { type VerifyOptions, type VerifyResult, verifyAudit } from './verify.js';

/** A database that cannot be read as a Countersign audit log; the message says how to fix it. */
export class AuditDatabaseError extends Error {}

const TABLES = ['audit_events', 'audit_keys', 'audit_checkpoints'];

/**
 * Opens the database read-only (it is never migrated or written here), after checking that the
 * file exists and holds the audit tables.
 */
export function openAuditDatabase(path: string): Database.Database {
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
        `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${TABLES.map(() => '?').join(',')})`,
      )
      .pluck()
      .all(...TABLES) as string[];
    const missing = TABLES.filter((t) => !found.includes(t));
    if (missing.length > 0)
      throw new AuditDatabaseError(
        `${where} has no ${missing.join(', ')} table: it is not a Countersign database, or it was never migrated (run "npx countersign migrate" or start the server once).`,
      );
  } catch (err) {
    sqlite.close();
    if (err instanceof AuditDatabaseError) throw err;
    throw new AuditDatabaseError(`cannot read ${where}: ${(err as Error).message}. Is it a SQLite database?`);
  }
  return sqlite;
}

/** Verifies the log of the database file at `path` on a read-only connection of its own. */
export async function verifyAuditFile(path: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const sqlite = openAuditDatabase(path);
  try {
    return await verifyAudit(sqlite, opts);
  } finally {
    sqlite.close();
  }
}
