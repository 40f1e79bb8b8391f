import type { OpenDatabase } from '../store/db.js';
import type { MetricsSource } from './metrics.js';

/** The database readings of the metrics, from the SQLite store (partial indexes keep them cheap). */
export function sqliteMetricsSource(database: OpenDatabase): MetricsSource {
  const pending = database.sqlite.prepare("SELECT count(*) AS n FROM requests WHERE status = 'pending'");
  const outbox = database.sqlite.prepare(
    'SELECT count(*) AS rows, min(created_at) AS oldest FROM outbox WHERE done_at IS NULL AND gave_up_at IS NULL',
  );
  return {
    pendingRequests: () => (pending.get() as { n: number }).n,
    outbox: () => {
      const r = outbox.get() as { rows: number; oldest: number | null };
      return { rows: r.rows, oldestCreatedAt: r.oldest };
    },
  };
}
