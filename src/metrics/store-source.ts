import type { Store } from '../store/store.js';
import type { MetricsSource } from './metrics.js';

/** The database readings of the metrics, from either store (partial indexes keep them cheap). */
export function storeMetricsSource(store: Store): MetricsSource {
  return {
    pendingRequests: () => store.listing.countPending(),
    outbox: () => store.outbox.openSummary(),
  };
}
