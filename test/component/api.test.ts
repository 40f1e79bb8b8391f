import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_SECRET, type Harness, requestBody, startHarness } from '../support/harness.js';
import { cardOf, waitFor } from '../support/slack-user.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

describe('POST /api/v1/requests', () => {
  it('answers 400 listing every problem', async () => {
    const res = await h.api.create({
      action: 'Bad Action!',
      title: '',
      requester: {},
      risk: 'extreme',
      extra: 1,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    const paths = (res.body.issues as { path: string }[]).map((i) => i.path).sort();
    expect(paths).toEqual(['action', 'extra', 'requester', 'risk', 'title']);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await h.api.create(undefined, { raw: '{"action":' });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([expect.objectContaining({ path: '(body)' })]);
  });

  it('answers 400 for a callback_url outside COUNTERSIGN_CALLBACK_ALLOW', async () => {
    const res = await h.api.create(requestBody({ callback_url: 'https://attacker.example/hook' }));
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([expect.objectContaining({ path: 'callback_url' })]);
  });

  it('answers 401 for a bad, missing or unknown signature', async () => {
    const body = JSON.stringify(requestBody());
    const tampered = await h.api.create(undefined, {
      raw: body,
      headers: { 'webhook-signature': 'v1,AAAA' },
    });
    expect(tampered).toEqual({ status: 401, body: { error: 'invalid_signature' } });
    const res = await fetch(`${h.server.url}/api/v1/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(401);
    const stranger = await h.api
      .withSecret(`whsec_${Buffer.from('not-a-known-client-key!!').toString('base64')}`)
      .create(requestBody());
    expect(stranger.status).toBe(401);
  });

  it('refuses a webhook-timestamp more than 300 s in the past or in the future, accepts one inside', async () => {
    // 5 s either side of the line: the header has whole seconds and a loaded machine takes its
    // time between reading the clock here and there (301 s once passed as 300 under CI load).
    const at = (offsetMs: number) => ({ at: new Date(Date.now() + offsetMs) });
    expect((await h.api.create(requestBody(), at(-305_000))).status).toBe(401);
    expect((await h.api.create(requestBody(), at(305_000))).status).toBe(401);
    expect((await h.api.create(requestBody(), at(295_000))).status).toBe(201);
    expect((await h.api.create(requestBody(), at(-295_000))).status).toBe(201);
  });

  it('answers 413 above 1 MiB and 415 for another content type', async () => {
    const big = JSON.stringify(requestBody({ diff: 'x'.repeat(1024 * 1024) }));
    const tooBig = await h.api.create(undefined, { raw: big });
    expect(tooBig.status).toBe(413);
    const text = await h.api.create(undefined, { raw: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
  });

  it('replays the same webhook-id and body as 200 with the same object and one card; a new body is 422', async () => {
    const body = requestBody({ title: 'Idempotent export' });
    const first = await h.api.create(body, { id: 'msg_idem_1' });
    const again = await h.api.create(body, { id: 'msg_idem_1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const other = await h.api.create({ ...body, title: 'Something else' }, { id: 'msg_idem_1' });
    expect(other).toEqual({
      status: 422,
      body: expect.objectContaining({ error: 'idempotency_key_reused' }),
    });
    await waitFor(() => cardOf(h, first.body.id as string), 'the card');
    await new Promise((r) => setTimeout(r, 200));
    expect(h.slack.cards().filter((c) => c.text.includes('Idempotent export'))).toHaveLength(1);
  });

  it('keys idempotency per client: another client may reuse the same webhook-id', async () => {
    const body = requestBody({ title: 'Per-client key' });
    const ci = await h.api.create(body, { id: 'msg_shared' });
    const agent = await h.api.withSecret(AGENT_SECRET).create(body, { id: 'msg_shared' });
    expect(ci.status).toBe(201);
    expect(agent.status).toBe(201);
    expect(agent.body.id).not.toBe(ci.body.id);
    expect(agent.body.client).toBe('agent');
  });
});

describe('GET and cancel', () => {
  it('returns the object, 404 for unknown ids and for another client’s request', async () => {
    const created = await h.api.create(requestBody());
    const id = created.body.id as string;
    const got = await h.api.request(id);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
    expect((await h.api.request('req_01JUNKNOWN0000000000000000')).status).toBe(404);
    const asAgent = await h.api.withSecret(AGENT_SECRET).request(id);
    expect(asAgent).toEqual({ status: 404, body: { error: 'not_found' } });
    const cancelAsAgent = await h.api.withSecret(AGENT_SECRET).cancel(id, 'not mine');
    expect(cancelAsAgent.status).toBe(404);
  });

  it('rejects a wait outside 1..60', async () => {
    const created = await h.api.create(requestBody());
    const res = await h.api.request(`${created.body.id}`, 61);
    expect(res.status).toBe(400);
  });

  it('cancels a pending request (200) and then answers 409 already_decided', async () => {
    const created = await h.api.create(requestBody());
    const id = created.body.id as string;
    const cancelled = await h.api.cancel(id, 'pipeline aborted');
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({
      status: 'cancelled',
      reason: 'pipeline aborted',
      decided_by: 'client:ci',
    });
    const again = await h.api.cancel(id);
    expect(again).toEqual({ status: 409, body: { error: 'already_decided', status: 'cancelled' } });
  });

  it('holds ?wait= until the decision and answers at once when it comes', async () => {
    const created = await h.api.create(requestBody());
    const id = created.body.id as string;
    const started = Date.now();
    const waiting = h.api.request(id, 10);
    await new Promise((r) => setTimeout(r, 300));
    await h.api.cancel(id, 'changed my mind');
    const res = await waiting;
    expect(res.body.status).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('serves /healthz without auth and 404s unknown paths', async () => {
    const ok = await fetch(`${h.server.url}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true });
    const missing = await fetch(`${h.server.url}/nope`);
    expect(missing.status).toBe(404);
  });
});
