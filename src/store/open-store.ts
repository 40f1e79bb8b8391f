import type { AuditReader } from './audit-reader.js';
import { openSqliteAuditReader } from './sqlite-audit-reader.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/** Where the data lives: `databaseUrl` (PostgreSQL) when set, else the SQLite file `databasePath`. */
export interface StoreTarget {
  databaseUrl: string | null;
  databasePath: string;
}

// The PostgreSQL modules (pg, drizzle's node-postgres driver) are loaded only when a DATABASE_URL
// asks for them: the SQLite default has no use for them (no RSS change was measurable, though).

/** Opens the store the configuration names and applies pending migrations (unless told not to). */
export async function openStore(
  target: StoreTarget,
  opts: { migrate?: boolean; poolMax?: number } = {},
): Promise<Store> {
  if (target.databaseUrl) {
    const { openPgStore } = await import('./pg-store.js');
    return openPgStore(target.databaseUrl, opts);
  }
  return openSqliteStore(target.databasePath, opts);
}

/** A read-only reader of the audit tables of the store the configuration names. */
export async function openAuditReaderAt(target: StoreTarget): Promise<AuditReader> {
  if (target.databaseUrl) {
    const { openPgAuditReader } = await import('./pg-audit-reader.js');
    return openPgAuditReader(target.databaseUrl);
  }
  return openSqliteAuditReader(target.databasePath);
}
