import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { openDatabase } from '../../src/store/db.js';
import { startHarness } from '../support/harness.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-modes-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const mode = (path: string) => statSync(path).mode & 0o777;

/** Starts and stops a server on `dir`, returning the warnings it logged. */
async function warningsAtStart(dir: string): Promise<string[]> {
  const lines: string[] = [];
  const h = await startHarness({ dir, server: { log: createLogger('warn', (l) => lines.push(l)) } });
  await h.stop({ keepDir: true });
  return lines
    .map((l) => JSON.parse(l) as { level: string; msg: string })
    .filter((e) => e.level === 'warn')
    .map((e) => e.msg);
}

describe.skipIf(process.platform === 'win32')('database files at rest', () => {
  it('creates the data folder 0700 and the database, -wal and -shm files 0600', () => {
    const data = join(tempDir(), 'data', 'nested');
    const path = join(data, 'countersign.db');
    const db = openDatabase(path);
    try {
      // A write in WAL mode: both side files exist now.
      db.sqlite.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1);');
      expect(mode(data)).toBe(0o700);
      expect(mode(join(data, '..'))).toBe(0o700);
      expect(mode(path)).toBe(0o600);
      expect(mode(`${path}-wal`)).toBe(0o600);
      expect(mode(`${path}-shm`)).toBe(0o600);
    } finally {
      db.close();
    }
  });

  it('warns once at start when an existing database and its folder are more open, naming the paths and the chmod', async () => {
    const dir = tempDir();
    const path = join(dir, 'countersign.db');
    openDatabase(path).close();
    chmodSync(dir, 0o755);
    chmodSync(path, 0o644);

    const warnings = (await warningsAtStart(dir)).filter((w) => /readable by other users/.test(w));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`the folder ${dir} is 0755`);
    expect(warnings[0]).toContain(`${path} is 0644`);
    expect(warnings[0]).toContain(`chmod 700 '${dir}'`);
    expect(warnings[0]).toContain(`chmod 600 '${path}'`);
    // Nothing is changed behind the operator's back.
    expect(mode(path)).toBe(0o644);

    chmodSync(dir, 0o700);
    chmodSync(path, 0o600);
    expect((await warningsAtStart(dir)).filter((w) => /readable by other users/.test(w))).toEqual([]);
  });

  it('says nothing on a fresh start', async () => {
    const dir = join(tempDir(), 'fresh');
    expect((await warningsAtStart(dir)).filter((w) => /readable by other users/.test(w))).toEqual([]);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'countersign.db'))).toBe(0o600);
    expect(mode(join(dir, 'audit-signing-key.pem'))).toBe(0o600);
  });
});
