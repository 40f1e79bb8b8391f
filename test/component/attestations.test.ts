import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAttestation } from '../../src/identity/attestation-verify.js';
import { auditData, type Harness, PEOPLE, requestBody, startHarness } from '../support/harness.js';
import { tamper } from '../support/oidc-issuer.js';
import { cardOf, click, submitDeny, waitFor } from '../support/slack-user.js';

// CONTRACT §12 through the real server: an approval carries a signed attestation that verifies
// offline with the server's JWKS (and fails for another payload or action, when tampered with or
// expired), denied, expired and cancelled requests carry none, and an approval is consumed once.

const POLICY = `version: 1
rules:
  - name: staging-auto
    match: { action: "deploy.*", environment: staging }
    outcome: auto_approve
  - name: short-lived
    match: { action: "db.short" }
    attestation_ttl_seconds: 60
`;

let h: Harness;
let dir: string;
let clock = Date.now();
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const jwks = async (server = h) =>
  (await (await fetch(`${server.server.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
const audit = (type: string, requestId: string) => auditData(h.server, type, requestId);

/** The request once its status is `status` (a vote is recorded after Slack's ack). */
const once = (id: string, status: string) =>
  waitFor(async () => {
    const r = await h.api.request(id);
    return r.body.status === status ? r.body : null;
  }, `${id} ${status}`);

/** Creates a request with the exact body text, waits for its card, approves it as Bob. */
async function approved(over: Record<string, unknown> = {}) {
  const text = JSON.stringify(requestBody(over));
  const created = await h.api.create(undefined, { raw: text });
  const id = created.body.id as string;
  await waitFor(() => cardOf(h, id), 'the card');
  await click(h, PEOPLE.bob.id, id, 'approve');
  const outcome = await once(id, 'approved');
  return { id, text, outcome, token: outcome.attestation as string };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-attest-'));
  writeFileSync(join(dir, 'policy.yml'), POLICY);
  h = await startHarness({
    dir,
    now: () => clock,
    env: { COUNTERSIGN_POLICY: join(dir, 'policy.yml'), COUNTERSIGN_PUBLIC_URL: 'https://cs.example' },
  });
});
afterAll(async () => {
  await h.stop({ keepDir: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('the attestation of an approval', () => {
  it('verifies with the JWKS for exactly the approved bytes and action, and its issuing is audited', async () => {
    const { id, text, outcome, token } = await approved();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const keys = await jwks();
    const check = await verifyAttestation(token, keys, {
      payloadSha256: sha(text),
      action: 'db.export',
      issuer: 'https://cs.example',
      now: clock,
    });
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.keyId).toBe(h.server.audit.keyId);
    expect(check.claims).toMatchObject({
      sub: id,
      action: 'db.export',
      resource: 'postgres://prod/customers',
      environment: 'production',
      client: 'ci',
      payload_sha256: outcome.payload_sha256,
      approvers: [PEOPLE.bob.id],
    });
    expect(check.claims.exp - check.claims.iat).toBe(900);
    expect(check.claims.iat).toBe(Math.floor(Date.parse(outcome.decided_at as string) / 1000));
    expect(await audit('attestation.issued', id)).toEqual([
      expect.objectContaining({
        key_id: h.server.audit.keyId,
        exp: check.claims.exp,
        token_sha256: sha(token),
      }),
    ]);

    const other = await verifyAttestation(token, keys, {
      payloadSha256: sha(`${text} `),
      action: 'db.drop',
      now: clock,
    });
    expect(other.ok ? [] : other.failures.map((f) => f.check)).toEqual(['payload', 'action']);
    const forged = tamper(token, (c) => ({ ...c, approvers: [PEOPLE.carol.id] }));
    expect(await verifyAttestation(forged, keys, { now: clock })).toMatchObject({
      ok: false,
      failures: [{ check: 'signature' }],
    });
  });

  it('lives as long as the policy rule says, and expires', async () => {
    const { token } = await approved({ action: 'db.short' });
    const keys = await jwks();
    expect(await verifyAttestation(token, keys, { now: clock + 59_000 })).toMatchObject({ ok: true });
    expect(await verifyAttestation(token, keys, { now: clock + 61_000 })).toMatchObject({
      ok: false,
      failures: [{ check: 'expiry' }],
    });
  });

  it('comes at once with a request that policy approves, with no approvers', async () => {
    const created = await h.api.create(requestBody({ action: 'deploy.web', environment: 'staging' }));
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('approved');
    const check = await verifyAttestation(created.body.attestation as string, await jwks(), { now: clock });
    expect(check).toMatchObject({ ok: true, claims: { approvers: [], action: 'deploy.web' } });
  });

  it('is null for a denied, an expired and a cancelled request', async () => {
    const denied = await h.api.create(requestBody());
    const deniedId = denied.body.id as string;
    await waitFor(() => cardOf(h, deniedId), 'the card');
    await submitDeny(h, PEOPLE.bob.id, deniedId, 'not today');
    expect((await once(deniedId, 'denied')).attestation).toBeNull();

    const cancelled = await h.api.create(requestBody());
    const gone = await h.api.cancel(cancelled.body.id as string);
    expect(gone.body).toMatchObject({ status: 'cancelled', attestation: null, consumed_at: null });

    const expiring = await h.api.create(requestBody({ ttl_seconds: 10 }));
    await h.server.approvals.expireDue(clock + 11_000);
    const expired = await h.api.request(expiring.body.id as string);
    expect(expired.body).toMatchObject({ status: 'expired', attestation: null });
    for (const id of [deniedId, cancelled.body.id, expiring.body.id] as string[]) {
      expect(await audit('attestation.issued', id)).toEqual([]);
    }
  });
});

describe('POST /api/v1/requests/:id/consume', () => {
  const consume = (id: string) => h.api.post(`/api/v1/requests/${id}/consume`, {});

  it('lets the first consumer through and refuses every later one, audited', async () => {
    const { id } = await approved();
    const first = await consume(id);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id, status: 'approved', consumed_at: new Date(clock).toISOString() });
    const second = await consume(id);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: 'already_consumed', consumed_at: first.body.consumed_at });
    expect((await h.api.request(id)).body.consumed_at).toBe(first.body.consumed_at);
    expect(await audit('request.consumed', id)).toHaveLength(1);
    expect(await audit('request.consume_refused', id)).toEqual([
      expect.objectContaining({ refusal: 'already_consumed' }),
    ]);
  });

  it('lets exactly one of 10 concurrent consumers through; the other 9 get 409, all audited', async () => {
    const { id } = await approved();
    const results = await Promise.all(Array.from({ length: 10 }, () => consume(id)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array<number>(9).fill(409)]);
    const winner = results.find((r) => r.status === 200);
    const consumedAt = new Date(clock).toISOString();
    expect(winner?.body).toMatchObject({ id, status: 'approved', consumed_at: consumedAt });
    for (const loser of results.filter((r) => r.status !== 200)) {
      expect(loser.body).toMatchObject({ error: 'already_consumed', consumed_at: consumedAt });
    }
    expect((await h.api.request(id)).body).toMatchObject({ status: 'approved', consumed_at: consumedAt });
    // One consumption on the trail (a secret-signed consumer has no caller), nine refusals.
    expect(await audit('request.consumed', id)).toEqual([
      expect.objectContaining({ caller: null, at: consumedAt }),
    ]);
    const refusals = await audit('request.consume_refused', id);
    expect(refusals.map((e) => e.refusal)).toEqual(Array(9).fill('already_consumed'));
  });

  it('refuses a request that is not approved, changing nothing', async () => {
    const pending = await h.api.create(requestBody());
    const id = pending.body.id as string;
    const res = await consume(id);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'not_approved', status: 'pending' });
    expect((await h.api.request(id)).body).toMatchObject({ status: 'pending', consumed_at: null });
    expect((await consume('req_unknown')).status).toBe(404);
  });

  it('refuses an approval whose attestation has expired', async () => {
    const { id } = await approved({ action: 'db.short' });
    clock += 61_000;
    const res = await consume(id);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'approval_expired' });
    expect((await h.api.request(id)).body.consumed_at).toBeNull();
  });
});

describe('GET /.well-known/jwks.json after the audit key is rotated', () => {
  it('serves the new key and the old one, so approvals signed before still verify', async () => {
    const { token } = await approved();
    const oldKey = h.server.audit.keyId;
    await h.stop({ keepDir: true, keepSlack: true });
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    h = await startHarness({
      dir,
      slack: h.slack,
      now: () => clock,
      env: { COUNTERSIGN_POLICY: join(dir, 'policy.yml'), AUDIT_SIGNING_KEY: pem },
    });
    const keys = await jwks();
    expect(keys.keys.map((k) => k.kid).sort()).toEqual([oldKey, h.server.audit.keyId].sort());
    expect(keys.keys.every((k) => k.alg === 'EdDSA' && k.use === 'sig' && !('d' in k))).toBe(true);
    expect(await verifyAttestation(token, keys, { now: clock })).toMatchObject({ ok: true, keyId: oldKey });
  });
});
