import { join } from 'node:path';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { packageRoot } from './package-root.js';
import * as schema from './schema-pg.js';

/** A drizzle handle on PostgreSQL: the pool, or one transaction's connection. */
export type PgDb = NodePgDatabase<typeof schema>;

/** Parses int8 (counts, bigint columns in plain SQL) as numbers: every value here is far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export function createPool(url: string, opts: { max?: number } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    types,
  });
  // An idle connection dropped by the server (restart, failover) is replaced; never a crash.
  pool.on('error', () => {});
  return pool;
}

/**
 * Runs `fn` on a pooled connection and gives it back, or discards it when it failed under `fn`:
 * a checked-out client has no pool listener, so a dropped connection must be listened for here
 * (else it would crash the process), and a broken one must not go back to the pool.
 */
export async function withClient<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, broke: (err: Error) => void) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const broke = (err: Error) => {
    broken = err;
  };
  client.on('error', broke);
  try {
    return await fn(client, broke);
  } finally {
    client.off('error', broke);
    client.release(broken);
  }
}

export function pgDrizzle(client: pg.Pool | pg.PoolClient): PgDb {
  return drizzle(client, { schema });
}

/** Where a URL points, without its credentials (for messages). */
export function describePgUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/**
 * Applies the migrations of `drizzle/pg` under a session advisory lock, so replicas that start
 * together migrate once (the others wait, then find nothing to do). The migrations' own table
 * lives in the connection's current schema.
 */
export async function migratePg(pool: pg.Pool): Promise<void> {
  await withClient(pool, async (client, broke) => {
    try {
      const current = (await client.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]?.s;
      if (!current) throw new Error('PostgreSQL has no current schema: check search_path in DATABASE_URL');
      await client.query("SELECT pg_advisory_lock(hashtext(current_schema() || '.migrate'))");
      try {
        await migrate(pgDrizzle(client), {
          migrationsFolder: join(packageRoot(), 'drizzle', 'pg'),
          migrationsSchema: current,
        });
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext(current_schema() || '.migrate'))");
      }
    } catch (err) {
      broke(err as Error); // the session lock may still be held: close this connection
      throw err;
    }
  });
}
