import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadSigningKey } from '../../src/audit/keys.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { type Harness, PEOPLE, requestBody, startHarness } from '../support/harness.js';
import { cardOf, click, submitDeny, waitFor } from '../support/slack-user.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a child process (killed after 20 s if it hangs). */
function countersign(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
    if (opts.env?.DATABASE_PATH === undefined) delete env.DATABASE_PATH;
    execFile(
      process.execPath,
      [CLI, ...args],
      { env, cwd: opts.cwd ?? tmpdir(), timeout: 20_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(err);
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
  });
}

let h: Harness;
let dir: string;
let db: string;
let events = 0;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'audit-command.js')))
    throw new Error('dist/ is missing the audit CLI: run "npm run build" first (npm test does)');
  dir = mkdtempSync(join(tmpdir(), 'countersign-audit-cli-'));
  h = await startHarness({ dir });
  db = h.env.DATABASE_PATH as string;
  for (const outcome of ['approve', 'deny', 'approve'] as const) {
    const id = (await h.api.create(requestBody({ title: `Export, "quoted", ${outcome}` }))).body.id as string;
    await waitFor(() => cardOf(h, id), 'the card');
    if (outcome === 'approve') await click(h, PEOPLE.bob.id, id, 'approve');
    else await submitDeny(h, PEOPLE.carol.id, id, 'no,\nnot "today"');
    await waitFor(async () => (await h.api.request(id)).body.status !== 'pending', 'the decision');
  }
});

afterAll(async () => {
  await h?.stop({ keepDir: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('countersign audit verify', () => {
  it('exits 0 with a summary, even while the server is writing', async () => {
    const run = await countersign(['audit', 'verify'], { env: { DATABASE_PATH: db } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^audit trail verified: \d+ events \(\d+ signed\), 1 key\(s\), 0 checkpoint\(s\)\nhead: \d+:[0-9a-f]{64}\n$/,
    );
  });

  describe('after the server stopped (with its final checkpoint)', () => {
    let head = '';
    beforeAll(async () => {
      await h.stop({ keepDir: true });
      const run = await countersign(['audit', 'verify'], { env: { DATABASE_PATH: db } });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/, 1 checkpoint\(s\)\n/);
      head = /head: (\d+:[0-9a-f]{64})/.exec(run.stdout)?.[1] ?? '';
      events = Number(head.split(':')[0]);
    });

    function tampered(name: string, change: (d: Database.Database) => void): string {
      const path = join(dir, `${name}.db`);
      copyFileSync(db, path);
      const d = new Database(path);
      try {
        change(d);
      } finally {
        d.close();
      }
      return path;
    }

    it('reads DATABASE_PATH from a .env file in the working folder', async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'countersign-audit-env-'));
      try {
        writeFileSync(join(cwd, '.env'), `DATABASE_PATH=${db}\n`);
        const run = await countersign(['audit', 'verify'], { cwd });
        expect(run.code).toBe(0);
        expect(run.stdout).toContain(`head: ${head}`);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });

    it('accepts the matching outside checkpoint', async () => {
      const run = await countersign(['audit', 'verify', '--checkpoint', head], {
        env: { DATABASE_PATH: db },
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`outside checkpoint ${head} matches`);
    });

    it('exits 1 naming the first bad event when a vote was edited', async () => {
      let seq = 0;
      const path = tampered('edited', (d) => {
        seq = d
          .prepare("SELECT seq FROM audit_events WHERE type = 'vote.recorded' LIMIT 1")
          .pluck()
          .get() as number;
        d.prepare("UPDATE audit_events SET actor = 'UMALLORY' WHERE seq = ?").run(seq);
      });
      const run = await countersign(['audit', 'verify', '--database', path]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(
        `audit trail FAILED verification at event #${seq} (vote.recorded): its content does not give its hash`,
      );
      expect(run.stderr).toContain(`${seq - 1} event(s) before it verified.`);
    });

    it('exits 1 when the tail was cut off, against the stored checkpoint and against --checkpoint', async () => {
      const cut = events - 3;
      const path = tampered('cut', (d) => {
        d.prepare('DELETE FROM audit_events WHERE seq > ?').run(cut);
      });
      const run = await countersign(['audit', 'verify', '--database', path]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `event #${cut + 1} (missing): event #${cut + 1} is missing: the log ends at #${cut}`,
      );

      const hidden = tampered('cut-hidden', (d) => {
        d.prepare('DELETE FROM audit_events WHERE seq > ?').run(cut);
        d.prepare('DELETE FROM audit_checkpoints').run();
      });
      expect((await countersign(['audit', 'verify', '--database', hidden])).code).toBe(0);
      const outside = await countersign(['audit', 'verify', '--database', hidden, '--checkpoint', head]);
      expect(outside.code).toBe(1);
      expect(outside.stderr).toContain('the outside checkpoint covers up to');
    });

    it('with --trusted-key, refuses a decision signed by a key someone registered by writing to the database', async () => {
      // The attacker has the database but not the signing key: a copy in another folder, where
      // the product's own writer makes and registers a new key, then signs an approval with it.
      const elsewhere = mkdtempSync(join(tmpdir(), 'countersign-audit-forged-'));
      const path = join(elsewhere, 'forged.db');
      copyFileSync(db, path);
      const store = openSqliteStore(path);
      const forger = new AuditLog(loadSigningKey(null, path));
      const at = Date.now();
      await store.transaction(async (t) => {
        await forger.registerKey(t, at);
        await forger.append(
          t,
          { type: 'request.approved', actor: PEOPLE.bob.id, requestId: 'req_forged', data: { forged: true } },
          at,
        );
      });
      await store.close();
      const trusted = join(elsewhere, 'trusted.pem');
      writeFileSync(trusted, (await countersign(['audit', 'pubkey', '--database', db])).stdout);
      try {
        // Without it, the registered key vouches for itself (what --trusted-key is for).
        expect((await countersign(['audit', 'verify', '--database', path])).code).toBe(0);
        const run = await countersign(['audit', 'verify', '--database', path, '--trusted-key', trusted]);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(
          /\(request\.approved\): it is signed with key [0-9a-f]{16}, which is not one of the keys given with --trusted-key/,
        );
        // The untouched log verifies with its own key trusted.
        expect(
          (await countersign(['audit', 'verify', '--database', db, '--trusted-key', trusted])).code,
        ).toBe(0);
        const missing = await countersign([
          'audit',
          'verify',
          '--database',
          db,
          '--trusted-key',
          join(elsewhere, 'none.pem'),
        ]);
        expect(missing.code).toBe(4);
        expect(missing.stderr).toContain('--trusted-key: cannot read');
      } finally {
        rmSync(elsewhere, { recursive: true, force: true });
      }
    });

    it('exits 1 when a decision was re-signed', async () => {
      let seq = 0;
      const path = tampered('resigned', (d) => {
        seq = d.prepare("SELECT seq FROM audit_events WHERE type = 'request.denied'").pluck().get() as number;
        d.prepare('UPDATE audit_events SET signature = ? WHERE seq = ?').run(
          Buffer.alloc(64, 7).toString('base64'),
          seq,
        );
      });
      const run = await countersign(['audit', 'verify', '--database', path]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`event #${seq} (request.denied): its signature does not verify`);
    });
  });
});

describe('countersign audit export', () => {
  it('streams JSON Lines, oldest first, and --since a seq continues after it', async () => {
    const run = await countersign(['audit', 'export'], { env: { DATABASE_PATH: db } });
    expect(run.code).toBe(0);
    const lines = run.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; type: string; data: unknown });
    expect(lines.map((l) => l.seq)).toEqual(Array.from({ length: lines.length }, (_, i) => i + 1));
    expect(lines.length).toBeGreaterThanOrEqual(events);
    expect(lines.find((l) => l.type === 'request.denied')?.data).toMatchObject({
      reason: 'no,\nnot "today"',
    });

    const since = await countersign(['audit', 'export', '--since', '5'], { env: { DATABASE_PATH: db } });
    expect(
      since.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).seq)[0],
    ).toBe(6);
    const future = await countersign(['audit', 'export', '--since', '2999-01-01'], {
      env: { DATABASE_PATH: db },
    });
    expect(future).toMatchObject({ code: 0, stdout: '' });
  });

  it('writes CSV with a header and RFC 4180 quoting', async () => {
    const run = await countersign(['audit', 'export', '--format', 'csv'], { env: { DATABASE_PATH: db } });
    expect(run.code).toBe(0);
    const records = run.stdout.split('\r\n').filter((l) => l !== '');
    expect(records[0]).toBe('seq,at,type,request_id,actor,data,prev_hash,hash,key_id,signature');
    const created = records.find((r) => r.includes(',request.created,'));
    expect(created).toMatch(
      /^\d+,\d{4}-\d{2}-\d{2}T[\d:.]+Z,request\.created,req_\w+,client:ci,"\{.*""title"":""Export, \\""quoted\\"", approve"".*\}",[0-9a-f]{64},[0-9a-f]{64},,$/,
    );
  });
});

describe('countersign audit pubkey', () => {
  it('prints each key id with its PEM', async () => {
    const run = await countersign(['audit', 'pubkey'], { env: { DATABASE_PATH: db } });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^# key [0-9a-f]{16} \(Ed25519, registered [\dT:.-]+Z, signing now\)\n-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n$/,
    );
  });
});

describe('mistakes', () => {
  it('a missing database says where it looked and how to fix it', async () => {
    const run = await countersign(['audit', 'verify'], { env: { DATABASE_PATH: join(dir, 'nope.db') } });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`no database at ${join(dir, 'nope.db')}. Set DATABASE_PATH`);
  });

  it('a file that is not a Countersign database', async () => {
    const path = join(dir, 'not-a-db.db');
    writeFileSync(path, 'hello');
    const run = await countersign(['audit', 'verify', '--database', path]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/countersign audit: cannot read .*not-a-db\.db: .*Is it a SQLite database\?/);
  });

  it.each([
    [['audit', 'export', '--format', 'xml'], /--format takes jsonl or csv, got "xml"/],
    [['audit', 'export', '--since', 'last tuesday'], /--since takes an ISO-8601 time/],
    [['audit', 'verify', '--checkpoint', '12'], /--checkpoint takes <seq>:<hash>/],
    [['audit', 'verify', '--since', '3'], /audit verify does not take --since/],
    [['audit', 'frobnicate'], /unknown audit command "frobnicate"/],
    [['audit', 'verify', '--nope'], /Unknown option '--nope'/],
  ])('%j exits 4 with usage', async (args, message) => {
    const run = await countersign(args, { env: { DATABASE_PATH: db } });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Usage: countersign audit <command>');
  });

  it('the top-level help lists the audit commands', async () => {
    const run = await countersign(['help']);
    expect(run.stdout).toContain('audit verify');
    expect(run.stdout).toContain('audit export');
    expect(run.stdout).toContain('audit pubkey');
  });
});
