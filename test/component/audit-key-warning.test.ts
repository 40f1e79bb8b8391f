import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { type HarnessOptions, startHarness } from '../support/harness.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Starts and stops a server, returning the warnings it logged. */
async function warningsAtStart(opts: HarnessOptions = {}): Promise<string[]> {
  const lines: string[] = [];
  const h = await startHarness({ ...opts, server: { log: createLogger('warn', (l) => lines.push(l)) } });
  await h.stop();
  return lines
    .map((l) => JSON.parse(l))
    .filter((e) => e.level === 'warn')
    .map((e) => e.msg as string);
}

function keyOutsideTheDataFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-keys-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'audit-key.pem');
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
  writeFileSync(path, pem, { mode: 0o600 });
  return path;
}

describe('the audit key beside the database', () => {
  it('warns once at start when the key is in the data folder and no checkpoint channel is set, naming both fixes', async () => {
    const warnings = await warningsAtStart();
    const audit = warnings.filter((w) => /audit/i.test(w));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatch(/in the data folder/);
    expect(audit[0]).toMatch(/AUDIT_SIGNING_KEY to a key file outside the data folder/);
    expect(audit[0]).toMatch(/COUNTERSIGN_AUDIT_CHANNEL/);
  });

  it('with the key outside the data folder but no channel, still names the channel (truncation goes unseen)', async () => {
    const warnings = await warningsAtStart({ env: { AUDIT_SIGNING_KEY: keyOutsideTheDataFolder() } });
    const audit = warnings.filter((w) => /audit/i.test(w));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatch(/^No COUNTERSIGN_AUDIT_CHANNEL is set/);
    expect(audit[0]).not.toMatch(/data folder/);
  });

  it('says nothing when checkpoints go to a channel and the key lives elsewhere', async () => {
    const warnings = await warningsAtStart({
      env: { AUDIT_SIGNING_KEY: keyOutsideTheDataFolder(), COUNTERSIGN_AUDIT_CHANNEL: 'C0AUDIT' },
    });
    expect(warnings.filter((w) => /audit/i.test(w))).toEqual([]);
  });
});
