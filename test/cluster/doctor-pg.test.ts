import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPostgres } from '../../src/cli/doctor-local.js';
import { openStore } from '../../src/store/open-store.js';
import { dropStoreFor, storeEnvFor } from '../support/test-store.js';

const dir = mkdtempSync(join(tmpdir(), 'countersign-doctor-pg-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropStoreFor(dir);
});

describe('doctor on PostgreSQL', () => {
  it('names pending migrations, passes once migrated, and says when the server cannot be reached', async () => {
    const url = (await storeEnvFor(dir)).DATABASE_URL as string;
    expect(await checkPostgres(url)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(
        /writable but \d+ migration\(s\) are pending: 0000_init, 0001_outbox_lane_due/,
      ),
    });
    const store = await openStore({ databaseUrl: url, databasePath: '' });
    await store.close();
    expect(await checkPostgres(url)).toMatchObject({
      status: 'pass',
      detail: expect.stringMatching(/migrated/),
    });
    const nowhere = new URL(url);
    nowhere.port = '1';
    expect(await checkPostgres(nowhere.toString())).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/cannot connect to PostgreSQL/),
    });
  });
});
