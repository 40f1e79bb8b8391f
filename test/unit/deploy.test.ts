import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The deployment files of docs/operations.md, checked for what matters. There is no Docker engine
// here, so the Dockerfile is parsed; the systemd unit goes through `systemd-analyze verify` where
// that tool exists.
const ROOT = join(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped, grouped by stage. */
function dockerStages(text: string): Instruction[][] {
  const joined = text
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: Instruction[][] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const ins = { op: (m[1] as string).toUpperCase(), args: (m[2] as string).trim() };
    if (ins.op === 'FROM') stages.push([]);
    stages.at(-1)?.push(ins);
  }
  return stages;
}

describe('Dockerfile', () => {
  const stages = dockerStages(read('Dockerfile'));
  const final = stages.at(-1) ?? [];
  const all = (op: string, stage = final) => stage.filter((i) => i.op === op).map((i) => i.args);
  const last = (op: string) => all(op).at(-1) ?? '';

  it('runs node itself as the command, never npm, so signals reach the server', () => {
    const cmd = JSON.parse(last('CMD')) as string[];
    expect(cmd).toEqual(['node', '--max-semi-space-size=4', 'dist/src/main.js']);
    expect(all('ENTRYPOINT')).toEqual([]);
    expect(last('STOPSIGNAL')).toBe('SIGTERM');
  });

  it('runs as a non-root user', () => {
    const user = last('USER');
    expect(user).not.toBe('');
    expect(['root', '0', '0:0']).not.toContain(user);
    // USER comes after every RUN of the final stage (nothing runs as root afterwards).
    const ops = final.map((i) => i.op);
    expect(ops.lastIndexOf('RUN')).toBeLessThan(ops.lastIndexOf('USER'));
  });

  it('keeps every write in one data volume, owned by that user, so the root filesystem can be read-only', () => {
    expect(all('VOLUME').join(' ')).toContain('/data');
    expect(all('ENV').join(' ')).toMatch(/DATABASE_PATH=\/data\/countersign\.db/);
    expect(all('RUN').join(' ')).toMatch(/chown node:node \/data/);
    expect(last('USER')).toBe('node');
    const docs = read('docs/operations.md').replace(/\\\n/g, ' ');
    expect(docs).toMatch(/docker run[^\n]*--read-only[^\n]*-v countersign-data:\/data/);
  });

  it('builds with dev dependencies in a separate stage and ships only what runs', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages[0] ?? [];
    expect(all('RUN', build).join(' ')).toMatch(/npm ci .*npm prune --omit=dev/);
    const copies = all('COPY').join('\n');
    for (const path of ['/app/dist', '/app/node_modules', '/app/drizzle', 'manifest.yml']) {
      expect(copies).toContain(path);
    }
    for (const src of all('COPY', build)) {
      for (const file of src.split(/\s+/).slice(0, -1)) expect(existsSync(join(ROOT, file)), file).toBe(true);
    }
    expect(last('HEALTHCHECK')).toContain('/healthz');
  });

  it('leaves local state and secrets out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', 'data', '.env', '*.db']) expect(ignored).toContain(entry);
  });
});

function unitSections(text: string): Map<string, [string, string][]> {
  const sections = new Map<string, [string, string][]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = section[1] as string;
      sections.set(current, []);
      continue;
    }
    const eq = line.indexOf('=');
    sections.get(current)?.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return sections;
}

describe('deploy/countersign.service (systemd)', () => {
  const text = read('deploy/countersign.service');
  const service = unitSections(text).get('Service') ?? [];
  const value = (key: string) => service.filter(([k]) => k === key).map(([, v]) => v);

  it('starts node on the built server (no npm), reloads with SIGHUP and stops with SIGTERM', () => {
    expect(value('ExecStart')).toEqual([
      '/usr/bin/node --max-semi-space-size=4 /opt/countersign/dist/src/main.js',
    ]);
    expect(value('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(value('KillSignal')).toEqual(['SIGTERM']);
    expect(value('Restart')).toEqual(['on-failure']);
  });

  it('runs as its own user, writing only its private state directory, where the database lives', () => {
    expect(value('User')).toEqual(['countersign']);
    expect(value('StateDirectory')).toEqual(['countersign']);
    expect(value('StateDirectoryMode')).toEqual(['0700']);
    expect(value('ProtectSystem')).toEqual(['strict']);
    expect(value('NoNewPrivileges')).toEqual(['yes']);
    expect(value('Environment')).toContain('DATABASE_PATH=/var/lib/countersign/countersign.db');
    expect(value('EnvironmentFile')).toEqual(['/etc/countersign/countersign.env']);
  });

  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  const available = analyze.status === 0;
  if (!available) console.info('skipping systemd-analyze verify: systemd-analyze is not installed here');
  it.skipIf(!available)('passes systemd-analyze verify (paths pointed at this checkout)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-unit-'));
    try {
      const env = join(dir, 'countersign.env');
      writeFileSync(env, '');
      const unit = join(dir, 'countersign.service');
      writeFileSync(
        unit,
        text
          .replace('/usr/bin/node', process.execPath)
          .replaceAll('/opt/countersign', ROOT)
          .replace('/etc/countersign/countersign.env', env),
      );
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8' });
      expect({ status: r.status, stderr: r.stderr.trim() }).toEqual({ status: 0, stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
