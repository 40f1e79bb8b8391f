import { statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCaptured } from '../support/child.js';
import { type Harness, PEOPLE, requestBody, startHarness } from '../support/harness.js';
import { cardOf, click, waitFor } from '../support/slack-user.js';

const CLI = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.stop());

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnCaptured(process.execPath, [CLI, ...args], {
    cwd: h.dir,
    env: { PATH: process.env.PATH ?? '', DATABASE_PATH: h.env.DATABASE_PATH as string, ...env },
  }).done;

describe('countersign backup', () => {
  it('copies the database while the server runs; the copy is complete, private and verifies', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await h.api.create(requestBody())).body.id as string);
    await waitFor(() => cardOf(h, ids[0] as string), 'the card');
    await click(h, PEOPLE.bob.id, ids[0] as string, 'approve');
    await waitFor(
      async () => (await h.server.approvals.requests.get(ids[0] as string))?.status === 'approved',
      'the approval',
    );

    const copy = join(h.dir, 'backup.db');
    // The server keeps writing (a new request) while the copy is taken.
    const [backup] = await Promise.all([cli(['backup', copy]), h.api.create(requestBody())]);
    expect({ code: backup.code, err: backup.stderr }).toMatchObject({ code: 0 });
    expect(backup.stdout).toMatch(
      /backup\.db: \d+ pages, \d+ requests, \d+ audit events, sha256 [0-9a-f]{64}\n$/,
    );
    expect(backup.stderr).toContain('audit-signing-key.pem');
    expect(statSync(copy).mode & 0o777).toBe(0o600);

    const db = new Database(copy, { readonly: true });
    const approved = db.prepare('SELECT status FROM requests WHERE id = ?').get(ids[0]) as { status: string };
    db.close();
    expect(approved.status).toBe('approved');
    const verify = await cli(['audit', 'verify'], { DATABASE_PATH: copy });
    expect({ code: verify.code, out: verify.stdout + verify.stderr }).toMatchObject({ code: 0 });
  });

  it('does not overwrite a file without --force, nor copy onto the database itself', async () => {
    const taken = join(h.dir, 'taken.db');
    writeFileSync(taken, 'keep me');
    const refused = await cli(['backup', taken]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('exists; give another file or --force');
    expect((await cli(['backup', taken, '--force'])).code).toBe(0);
    expect((await cli(['backup', h.env.DATABASE_PATH as string])).code).toBe(4);
    const none = await cli(['backup', join(h.dir, 'x.db')], { DATABASE_PATH: join(h.dir, 'missing.db') });
    expect(none.code).toBe(4);
    expect(none.stderr).toContain('no database at');
  });
});
