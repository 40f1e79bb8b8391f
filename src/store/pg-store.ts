import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { ListingRepo } from './listing-repo.js';
import { PgAudit } from './pg-audit.js';
import { openPgAuditReader } from './pg-audit-reader.js';
import { createPool, describePgUrl, migratePg, type PgDb, pgDrizzle, withClient } from './pg-db.js';
import { PgOutbox } from './pg-outbox.js';
import { PgRequests } from './pg-requests.js';
import type * as sqliteTables from './schema.js';
import * as pgTables from './schema-pg.js';
import { StatsRepo } from './stats-repo.js';
import type { Store, Tx } from './store.js';

/** The NOTIFY channel of decisions (the payload is the request id). */
const DECISIONS = 'countersign_decisions';
/** SQLSTATEs a transaction is simply run again for: serialization failure, deadlock, unique race. */
const RETRY = new Set(['40001', '40P01', '23505']);
const ATTEMPTS = 4;

/**
 * The SQLSTATE of a failed statement: on the error itself (pg), or on its `cause` when drizzle
 * wrapped it ("Failed query: ..."), as it does for every query it runs.
 */
function sqlState(err: unknown): string | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = cause;
  }
  return null;
}

export interface PgStoreOptions {
  migrate?: boolean;
  /** Connections in the pool (PGPOOL_MAX; default 10). */
  poolMax?: number;
}

/**
 * The PostgreSQL store: a connection pool shared by the requests of this replica, transactions on
 * one pooled connection each (retried on a deadlock or a unique-key race, which only a concurrent
 * replica causes), and a listening connection that turns other replicas' decisions into local
 * wake-ups (LISTEN/NOTIFY; reconnected with backoff).
 */
export async function openPgStore(url: string, opts: PgStoreOptions = {}): Promise<Store> {
  const pool = createPool(url, { max: opts.poolMax ?? 10 });
  try {
    if (opts.migrate !== false) await migratePg(pool);
    else await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  const db = pgDrizzle(pool);

  // One drizzle handle per pooled connection, kept while the pool keeps the connection: the
  // statements built on it (pg-statements.ts) serve every later transaction on it.
  const handles = new WeakMap<pg.PoolClient, PgDb>();
  const clientDb = (client: pg.PoolClient): PgDb => {
    let handle = handles.get(client);
    if (!handle) {
      handle = pgDrizzle(client);
      handles.set(client, handle);
    }
    return handle;
  };

  const runTx = async <T>(fn: (db: PgDb) => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await withClient(pool, async (client, broke) => {
          try {
            await client.query('BEGIN');
            const value = await fn(clientDb(client));
            await client.query('COMMIT');
            return value;
          } catch (err) {
            // When even the rollback fails, the connection is gone: it is not handed back.
            await client.query('ROLLBACK').catch(() => broke(err as Error));
            throw err;
          }
        });
      } catch (err) {
        const code = sqlState(err);
        if (attempt < ATTEMPTS && code !== null && RETRY.has(code)) {
          await sleep(5 * attempt + Math.random() * 20);
          continue;
        }
        throw err;
      }
    }
  };
  const txOf = (tdb: PgDb): Tx => ({
    requests: new PgRequests(tdb),
    outbox: new PgOutbox(tdb, (fn) => fn(tdb)),
    audit: new PgAudit(tdb),
    announceDecision: async (id) => {
      await tdb.execute(sql`SELECT pg_notify(${DECISIONS}, ${id})`);
    },
  });

  const listeners: ((id: string) => void)[] = [];
  const missedListeners: (() => void)[] = [];
  const listener = listen(
    url,
    (id) => {
      for (const l of listeners) l(id);
    },
    () => {
      for (const l of missedListeners) l();
    },
  );
  const tables = pgTables as unknown as typeof sqliteTables;
  const listingDb = db as unknown as ConstructorParameters<typeof ListingRepo>[0];

  return {
    dialect: 'postgres',
    where: `PostgreSQL at ${describePgUrl(url)}`,
    requests: new PgRequests(db),
    outbox: new PgOutbox(db, runTx),
    audit: new PgAudit(db),
    announceDecision: async (id) => {
      await db.execute(sql`SELECT pg_notify(${DECISIONS}, ${id})`);
    },
    listing: new ListingRepo(listingDb, tables),
    stats: new StatsRepo(listingDb, tables),
    transaction: (fn) => runTx((tdb) => fn(txOf(tdb))),
    transactionGrouped: (fn) => runTx((tdb) => fn(txOf(tdb))),
    async query<T>(text: string, params: unknown[] = []): Promise<T[]> {
      let n = 0;
      const numbered = text.replace(/\?/g, () => `$${++n}`);
      return (await pool.query(numbered, params)).rows as T[];
    },
    onDecision: (l) => {
      listeners.push(l);
    },
    onDecisionsMissed: (l) => {
      missedListeners.push(l);
    },
    // While the listening connection is down, waiters re-read every second (the contract's bound
    // for a decision taken on another replica); while it is up, every 5 s all the same, in case it
    // died in a way nothing has reported yet.
    decisionPollMs: () => (listener.connected() ? 5000 : 1000),
    openAuditReader: () => openPgAuditReader(url),
    async close() {
      await listener.close();
      await pool.end();
    },
  };
}

/**
 * A connection that LISTENs for decisions, reconnecting (1 s, 2 s, ... 30 s) when it drops; `onLost`
 * runs when it drops (what was announced meanwhile is never heard). TCP keepalive stops a NAT or
 * load balancer from dropping it silently while no decision is announced for a long time.
 */
function listen(
  url: string,
  onId: (id: string) => void,
  onLost: () => void,
): { connected(): boolean; close(): Promise<void> } {
  let client: pg.Client | null = null;
  let up = false;
  let closed = false;
  let delay = 1000;
  let timer: NodeJS.Timeout | null = null;
  const connect = async () => {
    if (closed) return;
    const c = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 30_000,
    });
    client = c;
    const lost = () => {
      if (client !== c) return;
      const wasUp = up;
      up = false;
      client = null;
      if (wasUp && !closed) onLost();
      c.end().catch(() => {});
      if (!closed) {
        timer = setTimeout(connect, delay);
        timer.unref();
        delay = Math.min(delay * 2, 30_000);
      }
    };
    c.on('error', lost);
    c.on('end', lost);
    c.on('notification', (m) => {
      if (m.channel === DECISIONS && m.payload) onId(m.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${DECISIONS}`);
      up = true;
      delay = 1000;
    } catch {
      lost();
    }
  };
  void connect();
  return {
    connected: () => up,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      up = false;
      await c?.end().catch(() => {});
    },
  };
}
