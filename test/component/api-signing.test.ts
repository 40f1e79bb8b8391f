import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Countersign } from '../../src/client/index.js';
import { AGENT_SECRET, CI_SECRET, type Harness, requestBody, startHarness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

async function pending(): Promise<string> {
  const res = await h.api.create(requestBody());
  expect(res.status).toBe(201);
  return res.body.id as string;
}

/** POSTs `body` to `target` with headers signed over `signed` (whatever a client chose to sign). */
async function postSignedOver(
  target: string,
  body: string,
  signed: string,
  id = `msg_${randomBytes(8).toString('hex')}`,
) {
  const res = await fetch(`${h.server.url}${target}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...h.api.headers(id, signed) },
    body,
  });
  return res.status;
}

describe('what a call signs (CONTRACT §3): a signature holds for one request target only', () => {
  it('refuses a cancel signed for request A when it is sent to request B', async () => {
    const a = await pending();
    const b = await pending();
    const body = JSON.stringify({ reason: 'rolled back' });
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const signedForA = h.api.headers(id, `/api/v1/requests/${a}/cancel\n${body}`);
    const replayed = await fetch(`${h.server.url}/api/v1/requests/${b}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedForA },
      body,
    });
    expect(replayed.status).toBe(401);
    expect((await h.api.request(b)).body.status).toBe('pending');
    // The same headers on A's own target are a cancel of A.
    const own = await fetch(`${h.server.url}/api/v1/requests/${a}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedForA },
      body,
    });
    expect(own.status).toBe(200);
    expect((await h.api.request(a)).body.status).toBe('cancelled');
  });

  it('refuses the old forms of a cancel signature: over the body alone, over {} or over nothing', async () => {
    const id = await pending();
    const target = `/api/v1/requests/${id}/cancel`;
    const body = JSON.stringify({ reason: 'old client' });
    expect(await postSignedOver(target, body, body)).toBe(401);
    expect(await postSignedOver(target, '{}', '{}')).toBe(401);
    expect(await postSignedOver(target, '', '')).toBe(401);
    // Nor a target signed as if it were a GET, nor a target without its line feed.
    expect(await postSignedOver(target, '', target)).toBe(401);
    expect(await postSignedOver(target, body, `${target}${body}`)).toBe(401);
    expect((await h.api.request(id)).body.status).toBe('pending');
    // The target, a line feed, then the body: accepted, also with an empty body.
    expect(await postSignedOver(target, '', `${target}\n`)).toBe(200);
  });

  it('refuses a consume signed for request A when it is sent to request B', async () => {
    const a = await pending();
    const b = await pending();
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const signedForA = h.api.headers(id, `/api/v1/requests/${a}/consume\n{}`);
    const consume = (target: string) =>
      fetch(`${h.server.url}/api/v1/requests/${target}/consume`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signedForA },
        body: '{}',
      });
    expect((await consume(b)).status).toBe(401);
    // On A's own target the signature holds (A is pending, so it cannot be consumed yet).
    const own = await consume(a);
    expect(own.status).toBe(409);
    expect(await own.json()).toMatchObject({ error: 'not_approved' });
    // Nor a consume signed over the old forms.
    const target = `/api/v1/requests/${a}/consume`;
    expect(await postSignedOver(target, '{}', '{}')).toBe(401);
    expect(await postSignedOver(target, '', '')).toBe(401);
  });

  it('signs the request target exactly as sent: another spelling of the same path is refused', async () => {
    const id = await pending();
    const body = '{}';
    const sent = `/api/v1/requests/${id}/cancel`;
    const signed = `/api/v1/requests/./${id}/cancel`;
    expect(await postSignedOver(sent, body, `${signed}\n${body}`)).toBe(401);
    expect((await h.api.request(id)).body.status).toBe('pending');
  });

  it('refuses a GET signed for another request, or signed over an empty body', async () => {
    const a = await pending();
    const b = await pending();
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const other = await fetch(`${h.server.url}/api/v1/requests/${b}`, {
      headers: h.api.headers(id, `/api/v1/requests/${a}`),
    });
    expect(other.status).toBe(401);
    const empty = await fetch(`${h.server.url}/api/v1/requests/${a}`, { headers: h.api.headers(id, '') });
    expect(empty.status).toBe(401);
  });

  it('the typed client (and so the CLI) signs cancels the new way', async () => {
    const cs = new Countersign({ url: h.server.url, secret: CI_SECRET, retryBaseMs: 20 });
    const id = await pending();
    const cancelled = await cs.cancel(id, 'done with it');
    expect(cancelled).toMatchObject({ id, status: 'cancelled', reason: 'done with it' });
    const second = await pending();
    expect(await cs.cancel(second)).toMatchObject({ id: second, status: 'cancelled' });
  });
});

describe('a webhook-id is one call (CONTRACT §3): reused for another method or target within 300 s it is a 409', () => {
  const fresh = () => `msg_${randomBytes(8).toString('hex')}`;
  const signedGet = (target: string, id: string) =>
    fetch(`${h.server.url}${target}`, { headers: h.api.headers(id, target) });
  const signedPost = (target: string, id: string, body = '{}') =>
    fetch(`${h.server.url}${target}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...h.api.headers(id, `${target}\n${body}`) },
      body,
    });

  it('refuses the id of a cancel of A on a cancel of B, though that cancel is signed for B', async () => {
    const a = await pending();
    const b = await pending();
    const id = fresh();
    expect((await signedPost(`/api/v1/requests/${a}/cancel`, id)).status).toBe(200);
    const reused = await signedPost(`/api/v1/requests/${b}/cancel`, id);
    expect(reused.status).toBe(409);
    expect(await reused.json()).toMatchObject({ error: 'webhook_id_reused' });
    expect((await h.api.request(b)).body.status).toBe('pending');
  });

  it('refuses an id used for one method on another: GET then consume, cancel then create', async () => {
    const a = await pending();
    const id = fresh();
    expect((await signedGet(`/api/v1/requests/${a}`, id)).status).toBe(200);
    const consume = await signedPost(`/api/v1/requests/${a}/consume`, id);
    expect(consume.status).toBe(409);
    expect(await consume.json()).toMatchObject({ error: 'webhook_id_reused' });
    const other = fresh();
    expect((await signedPost(`/api/v1/requests/${a}/cancel`, other)).status).toBe(200);
    const create = await h.api.create(requestBody(), { id: other });
    expect(create).toMatchObject({ status: 409, body: { error: 'webhook_id_reused' } });
  });

  it('lets the same call through again (a retry), and another client use the same id', async () => {
    const a = await pending();
    const b = await pending();
    const id = fresh();
    expect((await signedGet(`/api/v1/requests/${a}`, id)).status).toBe(200);
    expect((await signedGet(`/api/v1/requests/${a}`, id)).status).toBe(200);
    expect((await signedGet(`/api/v1/requests/${b}?wait=1`, id)).status).toBe(409);
    // The id is the client's own: another client's call with it is judged on its own (404: not theirs).
    expect((await h.api.withSecret(AGENT_SECRET).get(`/api/v1/requests/${b}`, { id })).status).toBe(404);
    // A create retried with its id is the same request (idempotency), not a reuse.
    const key = fresh();
    const first = await h.api.create(requestBody(), { id: key });
    const again = await h.api.create(requestBody(), { id: key });
    expect(first.status).toBe(201);
    expect(again).toMatchObject({ status: 200, body: { id: first.body.id } });
  });
});
