import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'countersign-cli-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '' },
    ...(input === undefined ? { stdio: ['ignore', 'pipe', 'pipe'] } : { input }),
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('countersign policy', () => {
  it('check accepts the example policy', () => {
    const r = cli(['policy', 'check', join(ROOT, 'policy.example.yml')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/valid, \d+ rules, sha256 [0-9a-f]{64}/);
  });

  it('check names file, line and field of every problem and exits 1', () => {
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'version: 1\nrules:\n  - name: a\n    min_approvals: 0\n    chanel: C1\n');
    const r = cli(['policy', 'check', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.yml:4: rules\[0\]\.min_approvals: /);
    expect(r.err).toMatch(/bad\.yml:5: rules\[0\]\.chanel: /);
  });

  it('explain reads a body on stdin and prints the matching rule, channel, approvers, quorum and TTL', () => {
    const body = JSON.stringify({
      action: 'db.export',
      title: 'Export',
      requester: { email: 'a@example.com' },
      environment: 'production',
      ttl_seconds: 86_400,
    });
    const r = cli(['policy', 'explain', '-', '--policy', join(ROOT, 'policy.example.yml')], body);
    expect(r.code).toBe(0);
    expect(r.out).toContain('prod-db-export');
    expect(r.out).toMatch(/C0PRODDATA1/);
    expect(r.out).toMatch(/S0DBA000001/);
    expect(r.out).toMatch(/2/);
    expect(r.out).toMatch(/3600/);
  });

  it('explain refuses an invalid body with every issue', () => {
    const r = cli(['policy', 'explain', '-'], '{"action":"X"}');
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/action: /);
    expect(r.err).toMatch(/title: /);
  });
});
