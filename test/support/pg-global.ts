import pg from 'pg';

/**
 * The `postgres` project's teardown: drops every test schema left behind (a test that kept its
 * folder for a restart, or one that crashed). Each harness already drops its own when it stops.
 */
export async function teardown(): Promise<void> {
  const url = process.env.COUNTERSIGN_PG_TEST_URL;
  if (!url) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ s: string }>(
      "SELECT nspname AS s FROM pg_namespace WHERE nspname LIKE 'cs\\_test\\_%'",
    );
    for (const { s } of rows) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  } finally {
    await client.end();
  }
}
