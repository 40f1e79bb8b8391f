import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { type RunningSandbox, SandboxError, startSandbox } from '../../src/sandbox/launcher.js';
import { buttonsOf, waitFor } from '../support/slack-user.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-sandbox-page-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function sandboxIn(dir: string): Promise<RunningSandbox> {
  const s = await startSandbox({
    cwd: dir,
    port: 0,
    log: createLogger('error', () => {}),
    server: { outboxPollMs: 50 },
  });
  cleanup.push(() => s.stop());
  return s;
}

function post(s: RunningSandbox, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** A GET with any Host header (fetch does not let a caller choose it). */
function getWithHost(s: RunningSandbox, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

async function demo(s: RunningSandbox, kind = 'db-export'): Promise<string> {
  const res = await post(s, '/sandbox/api/demo', { kind });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  await waitFor(() => s.slack.cards().find((m) => JSON.stringify(m.blocks).includes(id)), 'the demo card');
  return id;
}

const cardOf = (s: RunningSandbox, id: string) =>
  s.slack.cards().find((m) => JSON.stringify(m.blocks).includes(id)) as NonNullable<
    ReturnType<RunningSandbox['slack']['cards']>[number]
  >;

describe('the /sandbox page server', () => {
  it('serves the page with a strict content security policy, the people with their roles and the demo button', async () => {
    const s = await sandboxIn(folder());
    const res = await fetch(s.pageUrl);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('<label for="acting-as">Acting as</label>');
    for (const role of ['requester', 'approver: DBA', 'admin', 'guest', 'other workspace'])
      expect(html).toContain(role);
    expect(html.match(/— approver/g)?.length).toBeGreaterThanOrEqual(3);
    expect(html).toContain('New demo request');
    expect(html).not.toMatch(/(src|href)="https?:/);
    for (const asset of ['sandbox.js', 'sandbox.css', 'favicon.svg']) {
      expect((await fetch(`${s.url}/sandbox/assets/${asset}`)).status).toBe(200);
    }
    expect((await fetch(`${s.url}/sandbox/assets/..%2fpackage.json`)).status).toBe(404);
  });

  it('answers only to its own host names and its own page', async () => {
    const s = await sandboxIn(folder());
    expect(await getWithHost(s, '/sandbox', `127.0.0.1:${s.port}`)).toBe(200);
    expect(await getWithHost(s, '/sandbox', `localhost:${s.port}`)).toBe(200);
    expect(await getWithHost(s, '/sandbox', `attacker.example:${s.port}`)).toBe(421);
    expect(await getWithHost(s, '/sandbox/events?as=U0ADA', `attacker.example:${s.port}`)).toBe(421);
    const cross = await post(
      s,
      '/sandbox/api/demo',
      { kind: 'db-export' },
      { origin: 'https://attacker.example' },
    );
    expect(cross.status).toBe(403);
    const form = await fetch(`${s.url}/sandbox/api/demo`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"kind":"db-export"}',
    });
    expect(form.status).toBe(415);
    expect(s.slack.cards()).toEqual([]);
  });

  it('says what is wrong with a bad action', async () => {
    const s = await sandboxIn(folder());
    const bad = await post(s, '/sandbox/api/click', {
      as: 'nobody',
      place: {},
      blockId: '',
      actionId: 'approve',
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: string; issues: { path: string }[] };
    expect(body.error).toBe('invalid_request');
    expect(body.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['as', 'blockId']));
    const stranger = await post(s, '/sandbox/api/home', { as: 'U0NOBODY' });
    expect(stranger.status).toBe(400);
    expect(((await stranger.json()) as { message: string }).message).toContain(
      'U0NOBODY is not in the sandbox workspace',
    );
    const unknownDemo = await post(s, '/sandbox/api/demo', { kind: 'nope' });
    expect(unknownDemo.status).toBe(400);
    const command = await post(s, '/sandbox/api/command', { as: 'U0ADA', text: '/deploy now' });
    expect(command.status).toBe(400);
    expect(((await command.json()) as { message: string }).message).toContain('/approvals');
  });

  it('sends clicks to the server as Slack does: a vote by an approver closes the card; a button that is gone cannot be clicked', async () => {
    const s = await sandboxIn(folder());
    const id = await demo(s);
    const card = cardOf(s, id);
    expect(buttonsOf(card.blocks)).toEqual(['approve', 'deny']);
    const click = {
      as: 'U0BEN',
      place: { message: { channel: card.channel, ts: card.ts } },
      blockId: 'decision',
      actionId: 'approve',
    };
    expect((await post(s, '/sandbox/api/click', click)).status).toBe(200);
    await waitFor(() => buttonsOf(cardOf(s, id).blocks).length === 0, 'the decided card');
    expect((await s.server.approvals.requests.get(id))?.status).toBe('approved');
    const again = await post(s, '/sandbox/api/click', { ...click, as: 'U0ADA' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: string }).error).toBe('button_not_found');
  });

  it('publishes the Home tab on app_home_opened and takes a vote from it', async () => {
    const s = await sandboxIn(folder());
    const id = await demo(s);
    expect((await post(s, '/sandbox/api/home', { as: 'U0BEN' })).status).toBe(200);
    const home = await waitFor(() => s.slack.homes.get('U0BEN'), 'the Home tab');
    expect(buttonsOf(home.blocks as unknown[])).toEqual(['approve', 'deny']);
    const click = { as: 'U0BEN', place: { home: true }, blockId: `home_vote:${id}`, actionId: 'approve' };
    expect((await post(s, '/sandbox/api/click', click)).status).toBe(200);
    await waitFor(
      async () => (await s.server.approvals.requests.get(id))?.status === 'approved',
      'the approval from Home',
    );
    await waitFor(
      () => JSON.stringify(s.slack.homes.get('U0BEN')).includes('Your approval was recorded'),
      'the Home tab republished with a notice',
    );
  });

  it('opens the deny modal for the person who clicked, shows the errors the app asks for, and closes it once accepted', async () => {
    const s = await sandboxIn(folder());
    const id = await demo(s);
    const card = cardOf(s, id);
    const click = {
      as: 'U0ADA',
      place: { message: { channel: card.channel, ts: card.ts } },
      blockId: 'decision',
      actionId: 'deny',
    };
    expect((await post(s, '/sandbox/api/click', click)).status).toBe(200);
    const open = await waitFor(
      () => [...s.slack.views.values()].find((v) => v.user === 'U0ADA'),
      'the deny modal',
    );
    // Slack checks min_length before sending; the sandbox page does too. Sent anyway, the app refuses it.
    const empty = await post(s, '/sandbox/api/submit', {
      as: 'U0ADA',
      viewId: open.id,
      values: { reason: { reason: ' ' } },
    });
    expect(await empty.json()).toEqual({
      ok: true,
      errors: { reason: 'Please say why you deny this request.' },
    });
    expect(s.slack.views.get(open.id)?.errors).toEqual({ reason: 'Please say why you deny this request.' });
    const someoneElse = await post(s, '/sandbox/api/submit', { as: 'U0BEN', viewId: open.id, values: {} });
    expect(someoneElse.status).toBe(404);
    const sent = await post(s, '/sandbox/api/submit', {
      as: 'U0ADA',
      viewId: open.id,
      values: { reason: { reason: 'Not this week.' } },
    });
    expect(await sent.json()).toEqual({ ok: true });
    expect(s.slack.views.has(open.id)).toBe(false);
    await waitFor(async () => (await s.server.approvals.requests.get(id))?.status === 'denied', 'the denial');
    expect((await s.server.approvals.requests.get(id))?.reason).toBe('Not this week.');
  });

  it('streams a snapshot, then each change, to the page of the person acting', async () => {
    const s = await sandboxIn(folder());
    await demo(s);
    const res = await fetch(`${s.url}/sandbox/events?as=U0RILEY`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const until = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += Buffer.from(value).toString('utf8');
      }
    };
    await until('event: reset');
    await until('Export 90 days of customers');
    expect((await post(s, '/sandbox/api/command', { as: 'U0RILEY', text: '/approvals help' })).status).toBe(
      200,
    );
    await until('reply to your command');
    await reader.cancel();
  });

  it('keeps the channel across a restart, so cards posted before can still be decided and updated', async () => {
    const dir = folder();
    const first = await startSandbox({
      cwd: dir,
      port: 0,
      log: createLogger('error', () => {}),
      server: { outboxPollMs: 50 },
    });
    cleanup.push(() => first.stop());
    const id = await demo(first);
    await waitFor(() => first.slack.files.length === 1, 'the diff file');
    await first.stop();
    const second = await sandboxIn(dir);
    const card = cardOf(second, id);
    expect(second.slack.files).toHaveLength(1);
    const click = {
      as: 'U0ADA',
      place: { message: { channel: card.channel, ts: card.ts } },
      blockId: 'decision',
      actionId: 'approve',
    };
    expect((await post(second, '/sandbox/api/click', click)).status).toBe(200);
    await waitFor(
      () => buttonsOf(cardOf(second, id).blocks).length === 0,
      'the card updated after the restart',
    );
    // New messages continue after the restored ones.
    await waitFor(() => second.slack.thread(card.ts).length >= 2, 'the vote and outcome replies');
    const stamps = second.slack.messages.map((m) => m.ts);
    expect(new Set(stamps).size).toBe(stamps.length);
  });

  it('refuses to start beside another running sandbox in the same folder, and keeps a policy the user edited', async () => {
    const dir = folder();
    const first = await sandboxIn(dir);
    const file = readFileSync(first.connectionFile, 'utf8');
    const policy = join(first.dataDir, 'policy.yml');
    writeFileSync(
      policy,
      readFileSync(policy, 'utf8').replace('min_approvals: 1', 'min_approvals: 1 # edited'),
    );
    // The same file, as another live process (this test runner's parent) would have written it.
    writeFileSync(first.connectionFile, file.replace(`"pid": ${process.pid}`, `"pid": ${process.ppid}`));
    await expect(startSandbox({ cwd: dir, port: 0 })).rejects.toThrow(SandboxError);
    writeFileSync(first.connectionFile, file);
    await first.stop();
    const again = await sandboxIn(dir);
    expect(readFileSync(policy, 'utf8')).toContain('# edited');
    expect(again.url).not.toBe('');
  });
});
