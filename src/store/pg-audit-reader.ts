import type pg from 'pg';
import {
  AUDIT_BATCH,
  AUDIT_EVENT_COLUMNS,
  AUDIT_TABLES,
  type AuditCheckpointRow,
  AuditDatabaseError,
  type AuditReader,
} from './audit-reader.js';
import { createPool, describePgUrl } from './pg-db.js';

/**
 * Reads the audit tables of PostgreSQL in one read-only REPEATABLE READ transaction on a connection
 * of its own: one consistent snapshot while the replicas keep appending.
 */
export async function openPgAuditReader(url: string): Promise<AuditReader> {
  const where = `PostgreSQL at ${describePgUrl(url)}`;
  const pool = createPool(url, { max: 1 });
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    await pool.end().catch(() => {});
    throw new AuditDatabaseError(
      `cannot connect to ${where}: ${(err as Error).message}. Check DATABASE_URL.`,
    );
  }
  client.on('error', () => {}); // a dropped connection fails the next query instead
  const close = async () => {
    await client.query('COMMIT').catch(() => {});
    client.release();
    await pool.end().catch(() => {});
  };
  try {
    const found = (
      await client.query<{ t: string }>(
        'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY($1)',
        [AUDIT_TABLES],
      )
    ).rows.map((r) => r.t);
    const missing = AUDIT_TABLES.filter((t) => !found.includes(t));
    if (missing.length > 0)
      throw new AuditDatabaseError(
        `${where} has no ${missing.join(', ')} table: it is not a Countersign database, or it was never migrated (run "npx countersign migrate" or start the server once).`,
      );
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  } catch (err) {
    await close();
    if (err instanceof AuditDatabaseError) throw err;
    throw new AuditDatabaseError(`cannot read ${where}: ${(err as Error).message}`);
  }
  const cols = AUDIT_EVENT_COLUMNS.join(', ');
  return {
    where,
    async keys() {
      return (
        await client.query<{ key_id: string; public_key: string; created_at: number }>(
          'SELECT key_id, public_key, created_at FROM audit_keys ORDER BY created_at, key_id',
        )
      ).rows;
    },
    async lastData(types) {
      const r = await client.query<{ data: string }>(
        'SELECT data FROM audit_events WHERE type = ANY($1) ORDER BY seq DESC LIMIT 1',
        [types],
      );
      return r.rows[0]?.data ?? null;
    },
    async checkpoints() {
      return (
        await client.query<AuditCheckpointRow>(
          'SELECT id, seq, head_hash, at, key_id, signature FROM audit_checkpoints ORDER BY seq, id',
        )
      ).rows;
    },
    async maxSeq() {
      return (
        (await client.query<{ m: number | null }>('SELECT max(seq) AS m FROM audit_events')).rows[0]?.m ?? 0
      );
    },
    async *events(from = {}) {
      // Keyset pages on the primary key: never the whole table in memory.
      let after = from.afterSeq ?? 0;
      const atOrAfter = from.atOrAfter;
      for (;;) {
        const r = await client.query({
          text:
            atOrAfter === undefined
              ? `SELECT ${cols} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT ${AUDIT_BATCH}`
              : `SELECT ${cols} FROM audit_events WHERE seq > $1 AND at >= $2 ORDER BY seq LIMIT ${AUDIT_BATCH}`,
          values: atOrAfter === undefined ? [after] : [after, atOrAfter],
          rowMode: 'array',
        });
        const rows = r.rows as unknown[][];
        if (rows.length === 0) return;
        yield rows;
        after = Number(rows[rows.length - 1]?.[0]);
        if (rows.length < AUDIT_BATCH) return;
      }
    },
    async event(seq) {
      const r = await client.query<{ type: string; key_id: string | null }>(
        'SELECT type, key_id FROM audit_events WHERE seq = $1',
        [seq],
      );
      return r.rows[0] ?? null;
    },
    close,
  };
}
