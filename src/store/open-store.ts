import type { AuditReader } from './audit-reader.js';
import { openSqliteAuditReader } from './sqlite-audit-reader.js';
import type { Store } from './store.js';

/** Where the data lives: `databaseUrl` (PostgreSQL) when set, else the SQLite file `databasePath`. */
export interface StoreTarget {
  databaseUrl: string | null;
  databasePath: string;
}

// Each store's modules are loaded only when asked for: the PostgreSQL ones (pg, drizzle's
// node-postgres driver) when a DATABASE_URL names it, and neither store's drizzle schema for the
// audit reader, which reads with the plain driver (this keeps `audit verify` quick to start).

/** Opens the store the configuration names and applies pending migrations (unless told not to). */
export async function openStore(
  target: StoreTarget,
  opts: { migrate?: boolean; poolMax?: number } = {},
): Promise<Store> {
  if (target.databaseUrl) {
    const { openPgStore } = await import('./pg-store.js');
    return openPgStore(target.databaseUrl, opts);
  }
  const { openSqliteStore } = await import('./sqlite-store.js');
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
