import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnCaptured } from '../support/child.js';
import { CI_SECRET, type Harness, PEOPLE, requestBody, startHarness } from '../support/harness.js';
import { cardOf, click, submitDeny, waitFor } from '../support/slack-user.js';

// The one-file client (dist/countersign.mjs, built by `npm run build`), copied alone into an empty
// folder, as a pipeline gets it: no node_modules, no package.json, nothing else.
const BUNDLE = resolve(import.meta.dirname, '../../dist/countersign.mjs');

let h: Harness;
let dir: string;
let cli: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'countersign-bundle-'));
  cli = join(dir, 'countersign.mjs');
  copyFileSync(BUNDLE, cli);
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await h.stop();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}) {
  const started = spawnCaptured(process.execPath, [cli, ...args], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      COUNTERSIGN_URL: h.server.url,
      COUNTERSIGN_SECRET: CI_SECRET,
      ...env,
    },
    stdin: 'pipe',
  });
  children.push(started.child);
  return started;
}

const fields = [
  '--action',
  'deploy.production',
  '--title',
  'Deploy web',
  '--requester-slack-id',
  PEOPLE.alice.id,
];

describe('the one-file client (dist/countersign.mjs)', () => {
  it('has nothing to resolve but Node itself', () => {
    const text = readFileSync(BUNDLE, 'utf8');
    const imports = [...text.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((m) => m[1] as string);
    // Calls, not code text: Ajv carries `require("ajv/...")` strings for its standalone code generation.
    const required = [...text.matchAll(/(?<![`'"])\b(?:__)?require\(["']([^"']+)["']\)/g)].map(
      (m) => m[1] as string,
    );
    const builtin = (name: string) => builtinModules.includes(name.replace(/^node:/, ''));
    expect(imports.length + required.length).toBeGreaterThan(0);
    expect([...imports, ...required].filter((name) => !builtin(name))).toEqual([]);
    for (let d = dir; ; d = dirname(d)) {
      expect(existsSync(join(d, 'node_modules')), `${d}/node_modules`).toBe(false);
      if (dirname(d) === d) break;
    }
  });

  it('runs `request --wait` against the real server and names who approved', async () => {
    const r = run(['request', ...fields, '--wait']);
    const id = await waitFor(() => /^(req_\w+)$/m.exec(r.out())?.[1], `the id (stderr: ${r.err()})`);
    await waitFor(() => cardOf(h, id), 'the card');
    await waitFor(() => r.err().includes('Waiting for a decision'), 'the waiting line');
    await click(h, PEOPLE.bob.id, id, 'approve');
    const { code, stderr } = await r.done;
    expect({ code, stderr }).toMatchObject({ code: 0 });
    expect(stderr).toContain('Vote: Bob Builder approved (1/1 approval)');
    expect(stderr).toContain(`Approved by Bob Builder (${id}).`);
  });

  it('cancels a pending request with a reason (exit 0), and says it is too late once decided (exit 1)', async () => {
    const pending = await h.api.create(requestBody());
    const id = pending.body.id as string;
    const cancelled = await run(['cancel', id, '--reason', 'not needed after all']).done;
    expect(cancelled.code).toBe(0);
    expect(cancelled.stderr).toContain(`Cancelled ${id}: not needed after all.`);
    expect((await h.api.request(id)).body).toMatchObject({
      status: 'cancelled',
      reason: 'not needed after all',
    });

    const denied = (await h.api.create(requestBody())).body.id as string;
    await waitFor(() => cardOf(h, denied), 'the card');
    await submitDeny(h, PEOPLE.carol.id, denied, 'wrong bucket');
    await waitFor(async () => (await h.api.request(denied)).body.status === 'denied', 'the denial');
    const late = await run(['cancel', denied]).done;
    expect(late.code).toBe(1);
    expect(late.stderr).toContain(`Too late to cancel: ${denied} is already denied.`);
    expect(late.stderr).toContain(`Denied by Carol Checker (${denied}).`);

    const unknown = await run(['cancel', 'req_01NOSUCHREQUEST000000000']).done;
    expect(unknown.code).toBe(4);
    const usage = await run(['cancel']).done;
    expect(usage.code).toBe(4);
    expect(usage.stderr).toContain('give exactly one request id');
  });

  it('carries every client-side command: verify-approval, mcp and mcp-proxy start from it alone', async () => {
    for (const command of ['verify-approval', 'mcp', 'mcp-proxy']) {
      const r = await run([command, '--help']).done;
      expect({ command, code: r.code, err: r.stderr }).toEqual({ command, code: 0, err: '' });
      expect(r.stdout).toContain(`countersign ${command}`);
    }
  });

  it('is the client library when imported', async () => {
    const mod = (await import(pathToFileURL(cli).href)) as typeof import('../../src/client/index.js');
    const client = new mod.Countersign({ url: h.server.url, secret: CI_SECRET });
    const body = JSON.stringify(requestBody({ title: 'From the bundle as a library' }));
    const r = await client.requestApproval(body);
    expect(r.payload_sha256).toBe(mod.payloadSha256(body));
    expect((await client.get(r.id)).title).toBe('From the bundle as a library');
  });

  it('is served by the server at /cli/countersign.mjs with its SHA-256', async () => {
    const bytes = readFileSync(BUNDLE);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const res = await fetch(`${h.server.url}/cli/countersign.mjs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-sha256')).toBe(sha);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    const again = await fetch(`${h.server.url}/cli/countersign.mjs`, {
      headers: { 'if-none-match': String(res.headers.get('etag')) },
    });
    expect(again.status).toBe(304);
  });
});
