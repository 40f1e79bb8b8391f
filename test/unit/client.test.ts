import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApprovalRequestInput,
  Countersign,
  CountersignError,
  payloadSha256,
  type RequestObject,
} from '../../src/client/index.js';
import type { RequestObject as ServerRequestObject } from '../../src/core/request-object.js';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { AGENT_SECRET, CI_SECRET, type Harness, PEOPLE, startHarness } from '../support/harness.js';
import { cardOf, click, submitDeny, waitFor } from '../support/slack-user.js';

// The client's types must describe what the server sends: this only compiles while they agree.
const _sameShape = (r: ServerRequestObject): RequestObject => r;
void _sameShape;

let h: Harness;
let cs: Countersign;
beforeAll(async () => {
  h = await startHarness();
  cs = new Countersign({ url: h.server.url, secret: CI_SECRET, retryBaseMs: 20 });
});
afterAll(async () => {
  await h.stop();
});

const body = (over: Partial<ApprovalRequestInput> = {}): ApprovalRequestInput => ({
  action: 'db.export',
  title: 'Export customers',
  requester: { slack_user_id: PEOPLE.alice.id },
  risk: 'high',
  ...over,
});

/** Wraps fetch to see every attempt, and to fail some of them the way networks and proxies do. */
function flakyFetch(plan: ('network' | '503' | 'lose-answer' | 'pass')[]) {
  const seen: { method: string; id: string | null }[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    seen.push({ method: init?.method ?? 'GET', id: headers.get('webhook-id') });
    const step = plan.shift() ?? 'pass';
    if (step === 'network') throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    if (step === '503') return new Response('<html>bad gateway</html>', { status: 503 });
    const res = await fetch(input, init);
    if (step === 'lose-answer') {
      await res.body?.cancel();
      throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    }
    return res;
  }) as typeof fetch;
  return { fetchFn, seen };
}

describe('Countersign client', () => {
  it('requests approval and returns the typed pending request with the body’s SHA-256', async () => {
    const input = body({ title: 'Typed client' });
    const r = await cs.requestApproval(input);
    expect(r).toMatchObject({ status: 'pending', action: 'db.export', client: 'ci', min_approvals: 1 });
    expect(r.id).toMatch(/^req_/);
    expect(r.payload_sha256).toBe(payloadSha256(input));
    expect(await cs.get(r.id)).toMatchObject({ id: r.id, status: 'pending' });
  });

  it('retries network errors, 503s and a lost answer with the same webhook-id: one request, one card', async () => {
    const { fetchFn, seen } = flakyFetch(['network', '503', 'lose-answer', 'pass']);
    const client = new Countersign({ url: h.server.url, secret: CI_SECRET, fetch: fetchFn, retryBaseMs: 10 });
    const r = await client.requestApproval(body({ title: 'Flaky network' }));
    expect(seen).toHaveLength(4);
    expect(new Set(seen.map((s) => s.id)).size).toBe(1);
    expect(r.status).toBe('pending');
    await waitFor(() => cardOf(h, r.id), 'the card');
    await new Promise((res) => setTimeout(res, 150));
    expect(h.slack.cards().filter((c) => c.text.includes('Flaky network'))).toHaveLength(1);
  });

  it('gives up after its retries with a network_error naming the server', async () => {
    // A port nobody listens on any more.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const client = new Countersign({
      url: `http://127.0.0.1:${port}`,
      secret: CI_SECRET,
      retries: 1,
      retryBaseMs: 10,
    });
    const err = await client.requestApproval(body()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CountersignError);
    expect(err).toMatchObject({ status: null, code: 'network_error' });
    expect((err as Error).message).toBe(
      `creating the request: cannot reach Countersign at http://127.0.0.1:${port} (ECONNREFUSED)`,
    );
  });

  it('reuses an idempotency key: the same request back, and a different body is refused', async () => {
    const key = `deploy-${Date.now()}`;
    const first = await cs.requestApproval(body({ title: 'Keyed' }), { idempotencyKey: key });
    const again = await cs.requestApproval(body({ title: 'Keyed' }), { idempotencyKey: key });
    expect(again.id).toBe(first.id);
    const err = await cs.requestApproval(body({ title: 'Other' }), { idempotencyKey: key }).catch((e) => e);
    expect(err).toMatchObject({ status: 422, code: 'idempotency_key_reused' });
  });

  it('explains a 401: bad secret or clock skew', async () => {
    const wrong = new Countersign({
      url: h.server.url,
      secret: `whsec_${Buffer.from('a-secret-nobody-configured!').toString('base64')}`,
    });
    const err = await wrong.requestApproval(body()).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 401, code: 'invalid_signature' });
    expect((err as Error).message).toMatch(/bad secret or clock skew/);
    const skewed = new Countersign({ url: h.server.url, secret: CI_SECRET, now: () => Date.now() - 400_000 });
    expect(await skewed.get('req_x').catch((e: unknown) => e)).toMatchObject({ status: 401 });
    expect(() => new Countersign({ url: h.server.url, secret: 'not-a-secret' })).toThrow(/whsec_/);
  });

  it('lists every validation issue of a 400', async () => {
    const err = await cs
      .requestApproval({ action: 'Bad!', title: '', requester: {} } as ApprovalRequestInput)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: 'invalid_request' });
    const issues = (err as CountersignError).issues.map((i) => i.path).sort();
    expect(issues).toEqual(['action', 'requester', 'title']);
    expect((err as Error).message).toMatch(/- title:/);
  });

  it('waits for an approval, reporting updates; and for a deny with its reason', async () => {
    const approved = await cs.requestApproval(body({ title: 'Wait for me' }));
    await waitFor(() => cardOf(h, approved.id), 'the card');
    const updates: RequestObject[] = [];
    const waiting = cs.waitForDecision(approved.id, { onUpdate: (r) => updates.push(r) });
    await click(h, PEOPLE.bob.id, approved.id, 'approve');
    const decided = await waiting;
    expect(decided).toMatchObject({ status: 'approved', decided_by: PEOPLE.bob.id });
    expect(updates.at(-1)).toEqual(decided);

    const denied = await cs.requestApproval(body({ title: 'Deny me' }));
    const waitDeny = cs.waitForDecision(denied.id);
    await submitDeny(h, PEOPLE.bob.id, denied.id, 'Needs a DPO review');
    expect(await waitDeny).toMatchObject({
      status: 'denied',
      reason: 'Needs a DPO review',
      votes: [expect.objectContaining({ user_id: PEOPLE.bob.id, decision: 'deny' })],
    });
  });

  it('stops waiting on timeoutMs (wait_timeout, with the pending request) and on abort', async () => {
    const r = await cs.requestApproval(body({ title: 'Nobody looks' }));
    const err = await cs.waitForDecision(r.id, { timeoutMs: 1000, pollSeconds: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'wait_timeout',
      request: expect.objectContaining({ status: 'pending' }),
    });
    const ac = new AbortController();
    const waiting = cs.waitForDecision(r.id, { signal: ac.signal }).catch((e: unknown) => e);
    setTimeout(() => ac.abort(), 100);
    expect(await waiting).toMatchObject({ code: 'aborted', status: null });
  });

  it('cancels; cancelling again is safe; cancelling a decided request says what it became', async () => {
    const r = await cs.requestApproval(body({ title: 'Cancel me' }));
    const cancelled = await cs.cancel(r.id, 'pipeline stopped');
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      reason: 'pipeline stopped',
      decided_by: 'client:ci',
    });
    expect(await cs.cancel(r.id)).toMatchObject({ status: 'cancelled' });

    const done = await cs.requestApproval(body({ title: 'Approved first' }));
    await waitFor(() => cardOf(h, done.id), 'the card');
    await click(h, PEOPLE.bob.id, done.id, 'approve');
    await cs.waitForDecision(done.id);
    const err = await cs.cancel(done.id).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 409, code: 'already_decided', request: { status: 'approved' } });
  });

  it('answers 404 for another client’s request', async () => {
    const r = await cs.requestApproval(body());
    const agent = new Countersign({ url: h.server.url, secret: AGENT_SECRET });
    expect(await agent.get(r.id).catch((e: unknown) => e)).toMatchObject({ status: 404, code: 'not_found' });
  });
});

describe('waiting across a server restart', () => {
  it('rides out the restart and returns the decision made afterwards', async () => {
    const slack = await new SlackEmulator().start();
    for (const p of Object.values(PEOPLE)) slack.addUser(p);
    const dir = mkdtempSync(join(tmpdir(), 'countersign-client-restart-'));
    let server = await startHarness({ slack, dir });
    // The new server listens on another port: route the client's calls to whichever runs now.
    const origin = server.server.url;
    const routed = ((input: string | URL | Request, init?: RequestInit) =>
      fetch(String(input).replace(origin, server.server.url), init)) as typeof fetch;
    const client = new Countersign({ url: origin, secret: CI_SECRET, fetch: routed });
    try {
      const r = await client.requestApproval(body({ title: 'Across a restart' }));
      await waitFor(() => cardOf(server, r.id), 'the card');
      const waiting = client.waitForDecision(r.id, { pollSeconds: 5 });
      await waitFor(() => server.server.approvals.decisions.size === 1, 'the long poll');
      await server.stop({ keepSlack: true, keepDir: true });
      server = await startHarness({ slack, dir });
      await click(server, PEOPLE.bob.id, r.id, 'approve');
      expect(await waiting).toMatchObject({ id: r.id, status: 'approved' });
    } finally {
      await server.stop({ keepSlack: true, keepDir: true });
      await slack.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
