import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Countersign } from '../../src/client/index.js';
import { CI_SECRET, type Harness, requestBody, startHarness } from '../support/harness.js';

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
