import { createHash } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';

/**
 * Which store the component tests run on. The vitest project `postgres` sets
 * COUNTERSIGN_TEST_STORE=postgres; COUNTERSIGN_TEST_DATABASE_URL names the server (a database the
 * tests may create schemas in). Each test folder gets a schema of its own, named after the folder
 * (so a restart with the same folder finds its data again), dropped when the folder is removed.
 */
export type TestStore = 'sqlite' | 'postgres';
export const TEST_STORE: TestStore =
  process.env.COUNTERSIGN_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
export const TEST_DATABASE_URL =
  process.env.COUNTERSIGN_TEST_DATABASE_URL?.trim() || 'postgres://root@127.0.0.1:5432/test';

/** The schema of a test folder. */
export function schemaFor(dir: string): string {
  return `cs_test_${createHash('sha256').update(dir).digest('hex').slice(0, 20)}`;
}

/** A DATABASE_URL for `schema` on the test server (search_path set through the connection options). */
export function urlForSchema(schema: string, base = TEST_DATABASE_URL): string {
  const u = new URL(base);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * The environment naming the store of a test folder: DATABASE_PATH inside it, or (on PostgreSQL)
 * DATABASE_URL of its schema, created when missing.
 */
export async function storeEnvFor(dir: string): Promise<Record<string, string>> {
  if (TEST_STORE === 'sqlite') return { DATABASE_PATH: join(dir, 'countersign.db') };
  const schema = schemaFor(dir);
  await admin((c) =>
    c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((err: { code?: string }) => {
      // Replicas of one test starting together race to create it: one wins, which is all we need.
      if (err.code !== '23505' && err.code !== '42P06') throw err;
    }),
  );
  return { DATABASE_PATH: join(dir, 'countersign.db'), DATABASE_URL: urlForSchema(schema) };
}

/** What `verifyAuditFile` and the CLI's `--database`/`--database-url` take for a test folder. */
export function storeRefFor(dir: string): string {
  return TEST_STORE === 'sqlite' ? join(dir, 'countersign.db') : urlForSchema(schemaFor(dir));
}

/** Drops the schema of a test folder (nothing to do on SQLite: the folder goes with its file). */
export async function dropStoreFor(dir: string): Promise<void> {
  if (TEST_STORE === 'sqlite') return;
  await admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schemaFor(dir)} CASCADE`));
}
