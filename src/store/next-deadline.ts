import { asc, eq } from 'drizzle-orm';
import type { Db } from './db.js';
import { requests } from './schema.js';

/**
 * The earliest `expires_at` of a pending request, or null when none is pending: one seek on the
 * partial index `requests_pending_expiry`. The expiry timer sleeps until then.
 */
export function nextPendingDeadline(db: Db): number | null {
  const row = db
    .select({ at: requests.expiresAt })
    .from(requests)
    .where(eq(requests.status, 'pending'))
    .orderBy(asc(requests.expiresAt))
    .limit(1)
    .get();
  return row?.at ?? null;
}
