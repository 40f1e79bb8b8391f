import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCaptured } from '../support/child.js';
import { CI_SECRET, type Harness, requestBody, startHarness } from '../support/harness.js';

// examples/shell/countersign-curl.sh: the API signed with openssl alone, run as documented.
const SCRIPT = resolve(import.meta.dirname, '../../examples/shell/countersign-curl.sh');

let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'countersign-curl-'));
});
afterAll(async () => {
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function script(...args: string[]) {
  const started = spawnCaptured('bash', [SCRIPT, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', COUNTERSIGN_URL: h.server.url, COUNTERSIGN_SECRET: CI_SECRET },
  });
  const { code, stdout, stderr } = await started.done;
  return { code, stderr, json: stdout.trim() === '' ? null : JSON.parse(stdout) };
}

describe('examples/shell/countersign-curl.sh', () => {
  it('creates, reads and cancels a request, each call signed over what the contract says', async () => {
    const file = join(dir, 'request.json');
    writeFileSync(file, `${JSON.stringify(requestBody({ title: 'Signed with openssl' }), null, 2)}\n`);
    const created = await script('create', file);
    expect(created).toMatchObject({ code: 0, json: { status: 'pending', title: 'Signed with openssl' } });
    const id = created.json.id as string;

    expect(await script('get', id)).toMatchObject({ code: 0, json: { id, status: 'pending' } });
    expect(await script('get', id, '1')).toMatchObject({ code: 0, json: { id, status: 'pending' } });
    expect(await script('cancel', id, 'not today')).toMatchObject({
      code: 0,
      json: { id, status: 'cancelled', reason: 'not today' },
    });
    expect(await script('cancel', id)).toMatchObject({ code: 1, json: { error: 'already_decided' } });
  });
});
