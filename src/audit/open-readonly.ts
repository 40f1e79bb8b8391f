import { AuditDatabaseError } from '../store/audit-reader.js';
import { openAuditReaderAt } from '../store/open-store.js';
import { type VerifyOptions, type VerifyResult, verifyAudit } from './verify.js';

export { AuditDatabaseError };

/**
 * Verifies the log of the store at `target` (a SQLite file path, or a PostgreSQL URL) on a
 * read-only connection of its own.
 */
export async function verifyAuditFile(target: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const reader = await openAuditReaderAt(
    /^postgres(ql)?:\/\//.test(target)
      ? { databaseUrl: target, databasePath: '' }
      : { databaseUrl: null, databasePath: target },
  );
  try {
    return await verifyAudit(reader, opts);
  } finally {
    await reader.close();
  }
}
