import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditFile } from '../../src/audit/open-readonly.js';
import { SMALL_BODY_LIMIT } from '../../src/http/limits.js';
import { type Harness, requestBody, startHarness } from '../support/harness.js';
import { AWKWARD, FIELDS, namesField, postSignedBytes, UNSTORABLE } from '../support/hostile-text.js';
import { bearerCall } from '../support/oidc-api.js';
import { b64json, type LocalIssuer, startOidcIssuer } from '../support/oidc-issuer.js';
import { rawExchange } from '../support/raw-http.js';

/**
 * The other half of the fuzz of issue 13 item 13 (test/component/input-fuzz.test.ts has the signed
 * create, get, cancel and Slack routes): the consume route, calls authenticated by a CI identity
 * token (every field of every route, the token itself and the claims a listed issuer signs), and
 * the authentication headers themselves. Never a 5xx; text that cannot be stored is a 4xx that
 * names where it was; the audit trail still verifies.
 */
let issuer: LocalIssuer;
let h: Harness;
beforeAll(async () => {
  issuer = await startOidcIssuer();
  await issuer.addKey('RS256');
  h = await startHarness({ env: { COUNTERSIGN_OIDC: `github=${issuer.url}` } });
});
afterAll(async () => {
  await h.stop();
  await issuer.stop();
});

const HOSTILE_IDS = [
  '%ED%A0%80',
  '%00',
  'req_%00x',
  '%FF%FE',
  '%E2%80%AEreq',
  '%07%1B%5B31m',
  'A'.repeat(4000),
];

const port = () => h.server.port;

/** The status of one request sent as raw bytes (headers `fetch` refuses to send). */
async function rawStatus(head: string): Promise<number> {
  const x = rawExchange(port(), head);
  const { status } = await x.head;
  x.close();
  return status;
}

async function pendingId(): Promise<string> {
  const res = await h.api.create(requestBody({ title: 'stays pending through the fuzz' }));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

describe('POST /api/v1/requests/:id/consume with hostile ids and bodies', () => {
  it('never answers 5xx, refuses what cannot be looked up with 400 naming id, and consumes nothing', async () => {
    const id = await pendingId();
    for (const bad of HOSTILE_IDS) {
      const res = await postSignedBytes(h.server.url, `/api/v1/requests/${bad}/consume`, Buffer.from('{}'));
      expect(res.status, bad).toBeLessThan(500);
      expect([400, 404], bad).toContain(res.status);
    }
    expect(
      (await postSignedBytes(h.server.url, '/api/v1/requests/%00/consume', Buffer.from('{}'))).body,
    ).toMatchObject({
      error: 'invalid_request',
      issues: [{ path: 'id' }],
    });
    const bodies = [
      ...UNSTORABLE.map((v) => Buffer.from(JSON.stringify({ note: v }))),
      ...AWKWARD.filter((v) => v.length < SMALL_BODY_LIMIT).map((v) =>
        Buffer.from(JSON.stringify({ note: v })),
      ),
      Buffer.from([0xff, 0xfe, 0xed, 0xa0, 0x80]),
      Buffer.from('not json'),
    ];
    for (const body of bodies) {
      const res = await postSignedBytes(h.server.url, `/api/v1/requests/${id}/consume`, body);
      expect(res.status, body.toString('latin1').slice(0, 20)).toBeLessThan(500);
      expect(res.body).toMatchObject({ error: expect.any(String) });
    }
    const big = await postSignedBytes(
      h.server.url,
      `/api/v1/requests/${id}/consume`,
      Buffer.alloc(SMALL_BODY_LIMIT + 1, 'x'),
    );
    expect(big.status).toBe(413);
    expect((await h.api.request(id)).body).toMatchObject({ status: 'pending', consumed_at: null });
  });
});

describe('calls authenticated by a CI identity token', () => {
  const call = async (method: 'GET' | 'POST', target: string, body?: unknown, webhookId?: string) =>
    bearerCall(h.server.url, await issuer.token(), method, target, body, webhookId ? { webhookId } : {});

  it('POST /api/v1/requests: every string field, as with a signature', async () => {
    for (const [field, put] of FIELDS) {
      for (const value of UNSTORABLE) {
        const res = await call('POST', '/api/v1/requests', put(value));
        expect({ field, value, status: res.status }).toEqual({ field, value, status: 400 });
        expect(namesField(res.body, field), `${field}: ${JSON.stringify(res.body.issues)}`).toBe(true);
      }
      for (const value of AWKWARD) {
        const res = await call('POST', '/api/v1/requests', put(value));
        expect(res.status, `${field} = ${JSON.stringify(value.slice(0, 20))}`).toBeLessThan(500);
      }
    }
  });

  it('GET, cancel and consume: hostile ids, reasons and webhook-ids', async () => {
    const created = await call('POST', '/api/v1/requests', requestBody({ title: 'bearer fuzz' }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    for (const bad of HOSTILE_IDS) {
      for (const [method, target] of [
        ['GET', `/api/v1/requests/${bad}?wait=1`],
        ['POST', `/api/v1/requests/${bad}/cancel`],
        ['POST', `/api/v1/requests/${bad}/consume`],
      ] as const) {
        const res = await call(method, target, method === 'POST' ? {} : undefined);
        expect(res.status, `${method} ${target.slice(0, 40)}`).toBeLessThan(500);
        expect([400, 404]).toContain(res.status);
      }
    }
    for (const reason of UNSTORABLE) {
      const res = await call('POST', `/api/v1/requests/${id}/cancel`, { reason });
      expect(res.status, JSON.stringify(reason)).toBe(400);
      expect(res.body.issues).toEqual([{ path: 'reason', message: expect.any(String) }]);
    }
    for (const reason of AWKWARD) {
      const res = await call('POST', `/api/v1/requests/%00/cancel`, { reason });
      expect(res.status).toBe(reason.length > SMALL_BODY_LIMIT ? 413 : 400);
    }
    for (const webhookId of ['\u00ff\u00fe', 'a b', 'x'.repeat(201), '\u00e9t\u00e9']) {
      const res = await call('GET', `/api/v1/requests/${id}`, undefined, webhookId);
      expect(res, JSON.stringify(webhookId.slice(0, 10))).toMatchObject({
        status: 400,
        body: { issues: [{ path: 'webhook-id' }] },
      });
    }
    const token = await issuer.token();
    for (const webhookId of ['a\u0001b', 'tab\there', '\u007f']) {
      const status = await rawStatus(
        `GET /api/v1/requests/${id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nwebhook-id: ${webhookId}\r\nConnection: close\r\n\r\n`,
      );
      expect(status, JSON.stringify(webhookId)).toBeGreaterThanOrEqual(400);
      expect(status, JSON.stringify(webhookId)).toBeLessThan(500);
    }
    expect((await call('GET', `/api/v1/requests/${id}`)).body).toMatchObject({ status: 'pending' });
  });

  it('refuses hostile tokens with 401, and tokens whose signed claims cannot be stored with 401 naming the claims', async () => {
    const header = b64json({ alg: 'RS256', kid: '\ud800' });
    const garbage = [
      'x'.repeat(8000),
      'a.b.c',
      '...',
      `${header}.${b64json({ sub: '\ud800' })}.sig`,
      `${b64json({ alg: 'none' })}.${b64json({ iss: issuer.url, sub: 'x' })}.`,
      '\u00e9\u00e9.\u00e9.\u00e9',
      // Parts of an unverified token that its refusal (audited) names.
      `${b64json({ alg: '\ud800' })}.${b64json({ iss: issuer.url })}.sig`,
      `${b64json({ alg: 'X\u0000' })}.${b64json({ iss: issuer.url })}.sig`,
      `${b64json({ alg: 'RS256' })}.${b64json({ iss: `${issuer.url}\ud800` })}.sig`,
    ];
    for (const t of garbage) {
      const res = await bearerCall(h.server.url, t, 'GET', '/api/v1/requests/req_x');
      expect(res.status, t.slice(0, 30)).toBe(401);
    }
    for (const bad of ['\u0001\u0002', `Bearer x\u0007y`]) {
      const status = await rawStatus(
        `GET /api/v1/requests/req_x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${bad}\r\nConnection: close\r\n\r\n`,
      );
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
    }
    // A listed issuer signs what it signs: claims that cannot be stored are refused, never a 500.
    const claimSets = UNSTORABLE.flatMap((v) => [
      { sub: v },
      { repository: v },
      { ref: `refs/heads/${v}` },
      { actor: v },
      { [`claim${v}`]: 'value' },
      { nested: { deep: [v] } },
    ]);
    for (const claims of claimSets) {
      const t = await issuer.token({ claims });
      for (const [method, target, body] of [
        ['POST', '/api/v1/requests', requestBody()],
        ['GET', '/api/v1/requests/req_x', undefined],
      ] as const) {
        const res = await bearerCall(h.server.url, t, method, target, body);
        expect(res.status, `${method} ${JSON.stringify(claims)}`).toBe(401);
        expect(res.body).toMatchObject({ error: 'invalid_token', reason: 'claims' });
      }
    }
    // Awkward but storable claims are a caller like any other.
    for (const value of AWKWARD.filter((v) => v.length < 1000)) {
      const t = await issuer.token({ claims: { actor: value, ref: `refs/heads/${value}` } });
      const res = await bearerCall(h.server.url, t, 'POST', '/api/v1/requests', requestBody());
      expect(res.status, JSON.stringify(value)).toBe(201);
    }
    const audit = await verifyAuditFile(h.storeRef);
    expect(audit.ok).toBe(true);
  });
});

describe('the signature headers themselves', () => {
  it('answers 4xx, never 5xx, for hostile webhook-id, webhook-timestamp and webhook-signature', async () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const sets: Record<string, string>[] = [
      { 'webhook-id': '\u00ff\u00fe\u00ed', 'webhook-timestamp': ts, 'webhook-signature': 'v1,AAAA' },
      { 'webhook-id': 'x'.repeat(10_000), 'webhook-timestamp': ts, 'webhook-signature': 'v1,AAAA' },
      { 'webhook-id': 'a\u0001b', 'webhook-timestamp': ts, 'webhook-signature': 'v1,AAAA' },
      { 'webhook-id': 'm', 'webhook-timestamp': '1e9', 'webhook-signature': 'v1,AAAA' },
      { 'webhook-id': 'm', 'webhook-timestamp': '9'.repeat(400), 'webhook-signature': 'v1,AAAA' },
      { 'webhook-id': 'm', 'webhook-timestamp': `${ts}\u0000`, 'webhook-signature': 'v1,AAAA' },
      { 'webhook-id': 'm', 'webhook-timestamp': ts, 'webhook-signature': `v1,${'A'.repeat(12_000)}` },
      { 'webhook-id': 'm', 'webhook-timestamp': ts, 'webhook-signature': 'v1,\u00ff\u00fe v1,' },
      { 'webhook-id': 'm', 'webhook-timestamp': ts, 'webhook-signature': ' '.repeat(500) },
    ];
    for (const set of sets) {
      for (const [method, target] of [
        ['POST', '/api/v1/requests'],
        ['GET', '/api/v1/requests/req_x'],
        ['POST', '/api/v1/requests/req_x/consume'],
      ]) {
        const lines = [`${method} ${target} HTTP/1.1`, 'Host: x', 'Connection: close'];
        for (const [k, v] of Object.entries(set)) lines.push(`${k}: ${v}`);
        if (method === 'POST') lines.push('Content-Type: application/json', 'Content-Length: 2');
        const status = await rawStatus(`${lines.join('\r\n')}\r\n\r\n${method === 'POST' ? '{}' : ''}`);
        const what = `${method} ${target} ${JSON.stringify(set).slice(0, 60)}`;
        expect(status, what).toBeGreaterThanOrEqual(400);
        expect(status, what).toBeLessThan(500);
      }
    }
  });
});
