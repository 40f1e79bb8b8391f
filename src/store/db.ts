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
  close(): void;
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
  return {
    sqlite,
    db,
    close: () => {
      if (sqlite.open) sqlite.close();
    },
  };
}
