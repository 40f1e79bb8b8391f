import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Captured, spawnCaptured } from '../support/child.js';
import { CI_SECRET, type Harness, PEOPLE, startHarness } from '../support/harness.js';
import { cardOf, click, submitDeny, waitFor } from '../support/slack-user.js';

// Runs the real, built CLI (`npm test` builds first; locally run `npm run build` before vitest).
const CLI = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

let h: Harness;
let skew = 0;
let cwd: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // The server's clock can be moved forward to expire a request at once.
  h = await startHarness({ now: () => Date.now() + skew });
  cwd = mkdtempSync(join(tmpdir(), 'countersign-cli-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await h.stop();
  rmSync(cwd, { recursive: true, force: true });
});

interface Run extends Captured {
  /** The request id, once the CLI printed it on stdout. */
  id: () => Promise<string>;
}

function cli(args: string[], opts: { env?: Record<string, string>; input?: string; dir?: string } = {}): Run {
  const run = spawnCaptured(process.execPath, [CLI, 'request', ...args], {
    cwd: opts.dir ?? cwd,
    env: {
      PATH: process.env.PATH ?? '',
      COUNTERSIGN_URL: h.server.url,
      COUNTERSIGN_SECRET: CI_SECRET,
      ...opts.env,
    },
    // An open, silent stdin, as in CI: the CLI must not wait on it.
    stdin: 'pipe',
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  children.push(run.child);
  return {
    ...run,
    id: () =>
      waitFor(() => /^(req_\w+)$/m.exec(run.out())?.[1], `the request id on stdout (stderr: ${run.err()})`),
  };
}

const fields = (title: string) => [
  '--action',
  'deploy.production',
  '--title',
  title,
  '--requester-slack-id',
  PEOPLE.alice.id,
  '--environment',
  'production',
  '--risk',
  'high',
];

describe('countersign request --wait (real CLI, real server)', () => {
  it('exits 0 when approved, after printing the id and the Slack link', async () => {
    const run = cli([...fields('Deploy web v2.3.1'), '--wait', '--link', 'Run=https://ci.example/run/42']);
    const id = await run.id();
    await waitFor(() => cardOf(h, id), 'the card');
    await waitFor(() => run.err().includes('Waiting for a decision'), 'the waiting line');
    await click(h, PEOPLE.bob.id, id, 'approve');
    const { code, stdout, stderr } = await run.done;
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(id);
    expect(stderr).toMatch(/Slack: https:\/\/fake\.slack\.test\/archives\//);
    expect(stderr).toContain('Vote: Bob Builder approved (1/1 approval)');
    expect(stderr).toContain(`Approved by Bob Builder (${id}).`);
    expect(stderr).not.toContain('\r'); // no terminal: plain lines only
    const created = await h.api.request(id);
    expect(created.body).toMatchObject({
      title: 'Deploy web v2.3.1',
      environment: 'production',
      risk: 'high',
    });
  });

  it('exits 1 when denied, printing who denied and the reason', async () => {
    const run = cli([...fields('Drop the old table'), '--wait']);
    const id = await run.id();
    await waitFor(() => run.err().includes('Waiting for a decision'), 'the waiting line');
    await submitDeny(h, PEOPLE.bob.id, id, 'Not during the freeze');
    const { code, stderr } = await run.done;
    expect(code).toBe(1);
    expect(stderr).toContain(`Denied by Bob Builder (${id}).`);
    expect(stderr).toContain('Reason: Not during the freeze');
  });

  it('exits 2 when it expires', async () => {
    const run = cli([...fields('Nobody will look'), '--wait', '--ttl', '10s']);
    const id = await run.id();
    await waitFor(() => run.err().includes('Waiting for a decision'), 'the waiting line');
    skew = 20_000;
    try {
      expect(await h.server.approvals.expireDue(Date.now() + skew)).toBeGreaterThanOrEqual(1);
    } finally {
      skew = 0;
    }
    const { code, stderr } = await run.done;
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`Expired: .*\\(${id}\\)`));
  });

  it('exits 3 when the request is cancelled while it waits', async () => {
    const run = cli([...fields('Cancelled elsewhere'), '--wait']);
    const id = await run.id();
    await waitFor(() => run.err().includes('Waiting for a decision'), 'the waiting line');
    await h.api.cancel(id, 'superseded by a newer build');
    const { code, stderr } = await run.done;
    expect(code).toBe(3);
    expect(stderr).toContain(`Cancelled by the client ci: superseded by a newer build (${id}).`);
  });

  it('cancels on Ctrl-C with --cancel-on-interrupt (exit 3); leaves it pending without it (exit 130)', async () => {
    const run = cli([...fields('Interrupted'), '--wait', '--cancel-on-interrupt']);
    const id = await run.id();
    await waitFor(() => run.err().includes('Waiting for a decision'), 'the waiting line');
    run.child.kill('SIGINT');
    const { code, stderr } = await run.done;
    expect(code).toBe(3);
    expect(stderr).toContain(`Cancelling ${id}`);
    expect((await h.api.request(id)).body).toMatchObject({
      status: 'cancelled',
      reason: 'interrupted while waiting (countersign request)',
    });

    const left = cli([...fields('Left pending'), '--wait']);
    const leftId = await left.id();
    await waitFor(() => left.err().includes('Waiting for a decision'), 'the waiting line');
    left.child.kill('SIGINT');
    const leftRun = await left.done;
    expect(leftRun.code).toBe(130);
    expect(leftRun.stderr).toContain(`Left pending: ${leftId} can still be decided in Slack`);
    expect((await h.api.request(leftId)).body.status).toBe('pending');
  });

  it('exits 4 with a clear message for a bad secret', async () => {
    const wrong = `whsec_${Buffer.from('this-is-not-the-right-key').toString('base64')}`;
    const { code, stdout, stderr } = await cli([...fields('Bad secret'), '--wait'], {
      env: { COUNTERSIGN_SECRET: wrong },
    }).done;
    expect(code).toBe(4);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/bad secret or clock skew/);
    expect(stderr).toMatch(/COUNTERSIGN_SECRET/);
  });

  it('exits 4 for usage errors, missing configuration and a refused body', async () => {
    const missing = await cli(fields('No config'), { env: { COUNTERSIGN_URL: '', COUNTERSIGN_SECRET: '' } })
      .done;
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/set COUNTERSIGN_URL .* and COUNTERSIGN_SECRET/);

    const badSecret = await cli(fields('Not a secret'), { env: { COUNTERSIGN_SECRET: 'hunter2' } }).done;
    expect(badSecret.code).toBe(4);
    expect(badSecret.stderr).toMatch(
      /COUNTERSIGN_SECRET: the secret must be a Standard Webhooks secret: whsec_/,
    );

    const unknown = await cli(['--colour', 'red']).done;
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/Unknown option '--colour'/);
    expect(unknown.stderr).toContain('countersign request --help');

    const refused = await cli(['--action', 'Bad Action', '--title', 'x', '--risk', 'extreme']).done;
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/400 invalid_request/);
    expect(refused.stderr).toMatch(/- action:/);
    expect(refused.stderr).toMatch(/- requester:/);
    expect(refused.stderr).toMatch(/- risk:/);
  });
});

describe('countersign request: input and output', () => {
  it('reads piped JSON ("-") and .env, and prints the final object with --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-cli-env-'));
    try {
      writeFileSync(join(dir, '.env'), `COUNTERSIGN_URL=${h.server.url}\nCOUNTERSIGN_SECRET=${CI_SECRET}\n`);
      const body = {
        action: 'db.export',
        title: 'From stdin',
        requester: { email: 'alice@example.com' },
        context: { rows: 1200, masked: true },
      };
      const run = cli(['-', '--wait', '--json', '--min-approvals', '1', '--context', 'ticket=OPS-7'], {
        env: { COUNTERSIGN_URL: '', COUNTERSIGN_SECRET: '' },
        input: JSON.stringify(body),
        dir,
      });
      await waitFor(() => /Approval requested: (req_\w+)/.exec(run.err())?.[1], 'the request');
      const id = /Approval requested: (req_\w+)/.exec(run.err())?.[1] as string;
      await waitFor(() => cardOf(h, id), 'the card');
      await click(h, PEOPLE.bob.id, id, 'approve');
      const { code, stdout } = await run.done;
      expect(code).toBe(0);
      const final = JSON.parse(stdout);
      expect(final).toMatchObject({
        id,
        status: 'approved',
        title: 'From stdin',
        payload_sha256: expect.any(String),
      });
      expect(final.slack_url).toMatch(/^https:\/\/fake\.slack\.test\//);
      expect((await h.server.approvals.requests.get(id))?.context).toEqual({
        rows: 1200,
        masked: true,
        ticket: 'OPS-7',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes --file, lets flags override it, reads the diff, and without --wait exits 0 at once', async () => {
    writeFileSync(
      join(cwd, 'body.json'),
      JSON.stringify({
        action: 'iam.role.attach',
        title: 'From a file',
        requester: { email: 'a@example.com' },
      }),
    );
    writeFileSync(join(cwd, 'change.diff'), '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n');
    const { code, stdout, stderr } = await cli([
      '--file',
      'body.json',
      '--title',
      'Overridden title',
      '--diff-file',
      'change.diff',
      '--approver',
      PEOPLE.bob.id,
      '--approver-group',
      'SDBA',
      '--ttl',
      '2h',
    ]).done;
    expect(code).toBe(0);
    const id = stdout.trim();
    expect(stderr).toContain(`Approval requested: ${id} · iam.role.attach "Overridden title"`);
    const stored = await h.server.approvals.requests.get(id);
    expect(stored).toMatchObject({
      title: 'Overridden title',
      ttlSeconds: 7200,
      diff: expect.stringContaining('+b'),
    });
    expect(stored?.approvers).toEqual(
      expect.arrayContaining([expect.objectContaining({ users: [PEOPLE.bob.id], groups: ['SDBA'] })]),
    );
  });

  it('sends a whole --file byte for byte, so payload_sha256 is the file’s SHA-256', async () => {
    const text = `{\n  "action": "deploy.production",\n  "title": "Exact bytes",\n  "requester": { "email": "a@example.com" }\n}\n`;
    writeFileSync(join(cwd, 'exact.json'), text);
    const { code, stdout } = await cli(['--file', 'exact.json', '--json']).done;
    expect(code).toBe(0);
    const created = JSON.parse(stdout);
    expect(created).toMatchObject({ status: 'pending', title: 'Exact bytes' });
    expect(created.payload_sha256).toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('documents everything in --help', async () => {
    const { code, stdout } = await cli(['--help']).done;
    expect(code).toBe(0);
    for (const text of [
      '--action',
      '--requester-email',
      '--context key=value',
      '--link "text=url"',
      '--diff-file',
      '--min-approvals',
      '--ttl',
      '--callback-url',
      '--approver-group',
      '--file',
      '--wait',
      '--json',
      '--cancel-on-interrupt',
      'COUNTERSIGN_URL',
      'COUNTERSIGN_SECRET',
      'Cancel the request? [y/N]',
      '0  approved',
      '1  denied',
      '2  expired',
      '3  cancelled',
      '4  usage error',
      '130',
    ]) {
      expect(stdout).toContain(text);
    }
  });
});
