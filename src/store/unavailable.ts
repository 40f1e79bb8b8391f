const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  // PostgreSQL: shutting down, crashed, starting up, too many connections, read-only standby.
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '25006',
  // SQLite: another process holds the write lock past busy_timeout.
  'SQLITE_BUSY',
]);

/**
 * Whether `err` says the database cannot be reached right now (rather than that the statement is
 * wrong): such failures are answered 503 with Retry-After, and the transaction left nothing behind.
 */
export function isStoreUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('08')) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  if (
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database is closed/i.test(
      message,
    )
  )
    return true;
  return e.cause !== undefined && e.cause !== err ? isStoreUnavailable(e.cause) : false;
}
