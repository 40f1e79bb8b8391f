import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionError, resolveConnection } from '../../src/cli/connection.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const SECRET = `whsec_${Buffer.from('sandbox-secret-0123456789').toString('base64')}`;

function folderWithSandbox(pid: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-conn-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'data', 'sandbox'), { recursive: true });
  writeFileSync(
    join(dir, 'data', 'sandbox', 'connection.json'),
    JSON.stringify({ url: 'http://127.0.0.1:3999', client: 'demo', secret: SECRET, pid }),
  );
  return dir;
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('resolveConnection: the running sandbox of the folder', () => {
  it('is used when the environment and .env have neither COUNTERSIGN_URL nor COUNTERSIGN_SECRET', () => {
    const dir = folderWithSandbox(process.pid);
    expect(resolveConnection({}, dir)).toEqual({ url: 'http://127.0.0.1:3999', secret: SECRET });
    expect(resolveConnection({}, dir, 'http://127.0.0.1:4000')).toEqual({
      url: 'http://127.0.0.1:4000',
      secret: SECRET,
    });
  });

  it('is ignored as soon as either is configured, in the environment or in .env', () => {
    const dir = folderWithSandbox(process.pid);
    expect(() => resolveConnection({ COUNTERSIGN_URL: 'https://cs.example' }, dir)).toThrow(
      /COUNTERSIGN_SECRET/,
    );
    writeFileSync(join(dir, '.env'), `COUNTERSIGN_SECRET=${SECRET}\n`);
    expect(() => resolveConnection({}, dir)).toThrow(/COUNTERSIGN_URL/);
  });

  it('is not trusted once its process has ended, and the error says so', () => {
    const pid = deadPid();
    const dir = folderWithSandbox(pid);
    let error: unknown;
    try {
      resolveConnection({}, dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toContain(`names a sandbox (process ${pid}) that is no longer running`);
  });

  it('without any sandbox, names what is missing and how to get a sandbox', () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-conn-'));
    dirs.push(dir);
    expect(() => resolveConnection({}, dir)).toThrow(
      'set COUNTERSIGN_URL (the server base URL) and COUNTERSIGN_SECRET (whsec_...) in the environment or in .env (or start the sandbox in this folder: npx countersign sandbox)',
    );
  });
});
