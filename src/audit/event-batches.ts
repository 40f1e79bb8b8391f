import type Database from 'better-sqlite3';

/**
 * One stored audit event as `audit verify` reads it: the columns in this order, values as the
 * store returns them (their types are checked by the verifier, not assumed).
 */
export type EventRow = [
  seq: unknown,
  at: unknown,
  type: unknown,
  requestId: unknown,
  actor: unknown,
  data: unknown,
  prevHash: unknown,
  hash: unknown,
  keyId: unknown,
  signature: unknown,
];

/** Every event of the log in seq order, a batch at a time (a store may read them asynchronously). */
export type EventBatches = Iterable<EventRow[]> | AsyncIterable<EventRow[]>;

const COLUMNS = 'seq, at, type, request_id, actor, data, prev_hash, hash, key_id, signature';

/**
 * The events of a SQLite log in batches of `size` (keyset pages on the primary key): reading a
 * page with `all()` costs about half of stepping a row at a time with `iterate()`, and memory stays
 * flat on any log size. Run it inside one read transaction for a consistent snapshot.
 */
export function* sqliteEventBatches(sqlite: Database.Database, size = 4096): Generator<EventRow[]> {
  const first = sqlite.prepare(`SELECT ${COLUMNS} FROM audit_events ORDER BY seq LIMIT ?`).raw(true);
  const next = sqlite
    .prepare(`SELECT ${COLUMNS} FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`)
    .raw(true);
  let batch = first.all(size) as EventRow[];
  while (batch.length > 0) {
    yield batch;
    if (batch.length < size) return;
    batch = next.all(batch[batch.length - 1]?.[0], size) as EventRow[];
  }
}
