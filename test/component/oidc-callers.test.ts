import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditData, type Harness, PEOPLE, requestBody, startHarness } from '../support/harness.js';
import { bearerCall, deployBody } from '../support/oidc-api.js';
import {
  b64json,
  type IssuerKey,
  type LocalIssuer,
  startOidcIssuer,
  tamper,
} from '../support/oidc-issuer.js';
import { cardOf, click, textOf, waitFor } from '../support/slack-user.js';

// CONTRACT §11 through the real server: CI identity tokens from a local issuer as callers, every
// kind of bad token refused with its reason (and audited), the caller on the request, the card and
// the audit trail, policy on claims, requester binding and ownership.

const POLICY = `version: 1
requesters:
  - client: github
    claim: actor
    users: { octocat: ${PEOPLE.bob.id} }
rules:
  - name: prod-from-main
    match: { environment: production, claims: { repository: "acme/*", ref: refs/heads/main } }
  - name: prod-otherwise
    match: { environment: production }
    outcome: deny
`;

let issuer: LocalIssuer;
/** Keys the issuer publishes from the start, for algorithms the server must refuse all the same. */
let rs512: IssuerKey;
let ps256: IssuerKey;
let h: Harness;
let dir: string;
/** The server's clock: the key cache's refetch interval is 10 s of it. */
let clock = Date.now();
const token = (o: Parameters<LocalIssuer['token']>[0] = {}) => issuer.token({ now: clock, ...o });
const call = (t: string, method: 'GET' | 'POST', target: string, body?: unknown, webhookId?: string) =>
  bearerCall(h.server.url, t, method, target, body, webhookId ? { webhookId } : {});
const audit = (type: string) => auditData(h.server, type);

beforeAll(async () => {
  issuer = await startOidcIssuer();
  await issuer.addKey('RS256');
  rs512 = await issuer.addKey('RS512');
  ps256 = await issuer.addKey('PS256');
  dir = mkdtempSync(join(tmpdir(), 'countersign-oidc-'));
  writeFileSync(join(dir, 'policy.yml'), POLICY);
  h = await startHarness({
    dir,
    now: () => clock,
    env: { COUNTERSIGN_OIDC: `github=${issuer.url}`, COUNTERSIGN_POLICY: join(dir, 'policy.yml') },
  });
});
afterAll(async () => {
  await h.stop({ keepDir: true });
  await issuer.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a caller proven by a CI identity token', () => {
  it('is accepted without a signature; the caller is on the request, the card and the audit record', async () => {
    const created = await call(await token(), 'POST', '/api/v1/requests', deployBody());
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      client: 'github',
      status: 'pending',
      policy: { rule: 'prod-from-main' },
      caller: {
        issuer: issuer.url,
        subject: 'repo:acme/web:ref:refs/heads/main',
        claims: { repository: 'acme/web', ref: 'refs/heads/main', workflow: 'deploy', actor: 'octocat' },
      },
      attestation: null,
      consumed_at: null,
    });
    const id = created.body.id as string;
    const card = await waitFor(() => cardOf(h, id), 'the card');
    const text = textOf(card.blocks);
    expect(text).toContain('*Proven caller*');
    expect(text).toContain('acme/web · refs/heads/main · workflow deploy · by octocat');
    expect(text).toContain(`<${issuer.url}/acme/web/actions/runs/9001/attempts/1|CI run>`);
    const [event] = (await audit('request.created')).filter((e) => (e.caller as { issuer?: string })?.issuer);
    expect(event).toMatchObject({
      client: 'github',
      caller: { subject: 'repo:acme/web:ref:refs/heads/main' },
    });
  });

  it('is null, present and not absent, for a caller that signs with a client secret: created, read and audited', async () => {
    // Staging: the production rules of this policy look at token claims, which this caller has none of.
    const created = await h.api.create(requestBody({ environment: 'staging' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ client: 'ci', status: 'pending' });
    expect(created.body).toHaveProperty('caller', null);
    const id = created.body.id as string;
    const read = await h.api.request(id);
    expect(read.status).toBe(200);
    expect(read.body).toHaveProperty('caller', null);
    const events = await auditData(h.server, 'request.created', id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ client: 'ci' });
    expect(events[0]).toHaveProperty('caller', null);
  });

  it('refuses every bad token with 401 and the reason, and audits each refusal', async () => {
    const stranger = await startOidcIssuer();
    await stranger.addKey('RS256');
    const published = issuer.published[0];
    if (published === undefined) throw new Error('no key');
    const impostor = await issuer.addKey('RS256', { publish: false });
    const iat = Math.floor(clock / 1000);
    const claims = {
      iss: issuer.url,
      aud: 'countersign',
      sub: 'repo:acme/web:ref:refs/heads/main',
      iat,
      exp: iat + 300,
    };
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: published.kid })
      .sign(new TextEncoder().encode(JSON.stringify(published.publicJwk)));
    const cases: [string, string, string][] = [
      ['wrong audience', await token({ claims: { aud: 'someone-else' } }), 'audience'],
      ['expired', await token({ now: clock - 3600_000 }), 'expired'],
      ['not yet valid', await token({ claims: { nbf: iat + 600 } }), 'not_yet_valid'],
      ['alg none', `${b64json({ alg: 'none', typ: 'JWT' })}.${b64json(claims)}.`, 'algorithm'],
      ['HS256 signed with the public key', hs256, 'algorithm'],
      ['RS512 signed with a published RS512 key', await token({ key: rs512 }), 'algorithm'],
      ['PS256 signed with a published PS256 key', await token({ key: ps256 }), 'algorithm'],
      ['unknown issuer', await stranger.token({ now: clock }), 'unknown_issuer'],
      ['right kid, wrong key', await token({ key: impostor, kid: published.kid }), 'signature'],
      ['tampered payload', tamper(await token(), (c) => ({ ...c, repository: 'acme/secret' })), 'signature'],
      ['not a JWT', 'garbage', 'malformed'],
    ];
    const before = (await audit('api.token_refused')).length;
    for (const [what, t, reason] of cases) {
      const res = await call(t, 'POST', '/api/v1/requests', deployBody());
      expect({ what, status: res.status, body: res.body }).toMatchObject({
        what,
        status: 401,
        body: { error: 'invalid_token', reason, message: expect.any(String) },
      });
    }
    const refused = (await audit('api.token_refused')).slice(before);
    expect(refused.map((e) => e.reason)).toEqual(cases.map((c) => c[2]));
    expect(refused[0]).toMatchObject({ method: 'POST', path: '/api/v1/requests', issuer: issuer.url });
    // An issuer that is not listed is never contacted.
    expect(stranger.count()).toBe(0);
    await stranger.stop();
  });

  it('picks up a rotated issuer key on an unknown kid, at most once per 10 s', async () => {
    const rotated = await issuer.addKey('ES256');
    const jwksBefore = issuer.count('/.well-known/jwks');
    clock += 11_000;
    const res = await call(await token({ key: rotated }), 'POST', '/api/v1/requests', deployBody());
    expect(res.status).toBe(201);
    expect(issuer.count('/.well-known/jwks')).toBe(jwksBefore + 1);
    // A flood of made-up kids right after costs the issuer nothing more.
    for (const kid of ['x1', 'x2', 'x3']) {
      const bad = await call(await token({ key: rotated, kid }), 'POST', '/api/v1/requests', deployBody());
      expect(bad.body).toMatchObject({ error: 'invalid_token', reason: 'unknown_key' });
    }
    expect(issuer.count('/.well-known/jwks')).toBe(jwksBefore + 1);
  });

  it('matches policy on claims: production from another branch is refused with 403', async () => {
    const res = await call(
      await token({ claims: { ref: 'refs/heads/dev' } }),
      'POST',
      '/api/v1/requests',
      deployBody(),
    );
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'denied_by_policy', rule: 'prod-otherwise' });
    expect((await audit('request.refused_by_policy')).at(-1)).toMatchObject({
      rule: 'prod-otherwise',
      caller: { claims: { ref: 'refs/heads/dev' } },
    });
  });

  it('binds the requester to the mapped Slack user: they cannot approve, and a body naming someone else is a 400', async () => {
    const named = await call(
      await token(),
      'POST',
      '/api/v1/requests',
      deployBody({ requester: { slack_user_id: PEOPLE.alice.id } }),
    );
    expect(named.status).toBe(400);
    expect(named.body).toMatchObject({ error: 'invalid_request', issues: [{ path: 'requester' }] });
    expect(JSON.stringify(named.body)).toContain(PEOPLE.bob.id);

    const created = await call(await token(), 'POST', '/api/v1/requests', deployBody());
    expect(created.body.requester).toEqual({ slack_user_id: PEOPLE.bob.id, name: 'octocat' });
    const id = created.body.id as string;
    await waitFor(() => cardOf(h, id), 'the card');
    const refusals = (await audit('vote.refused')).length;
    await click(h, PEOPLE.bob.id, id, 'approve');
    const refused = await waitFor(async () => (await audit('vote.refused'))[refusals], 'the refused vote');
    expect(refused).toMatchObject({ refusal: 'requester', user: { id: PEOPLE.bob.id } });
    const still = await call(await token(), 'GET', `/api/v1/requests/${id}`);
    expect(still.body).toMatchObject({ status: 'pending', votes: [] });
    await click(h, PEOPLE.carol.id, id, 'approve');
    const done = await call(await token(), 'GET', `/api/v1/requests/${id}?wait=5`);
    expect(done.body).toMatchObject({ status: 'approved', attestation: expect.any(String) });
  });

  it('scopes requests and idempotency keys to the repository: another one cannot read, cancel or consume them', async () => {
    const mine = await call(await token(), 'POST', '/api/v1/requests', deployBody(), 'deploy-77-1');
    const id = mine.body.id as string;
    const again = await call(await token(), 'POST', '/api/v1/requests', deployBody(), 'deploy-77-1');
    expect(again).toMatchObject({ status: 200, body: { id } });
    const other = await token({
      claims: { repository: 'acme/api', repository_id: '5151', sub: 'repo:acme/api:ref:refs/heads/main' },
    });
    // The same key from another repository is another request.
    const theirs = await call(other, 'POST', '/api/v1/requests', deployBody(), 'deploy-77-1');
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(id);
    expect((await call(other, 'GET', `/api/v1/requests/${id}`)).status).toBe(404);
    expect((await call(other, 'POST', `/api/v1/requests/${id}/cancel`, {})).status).toBe(404);
    expect((await call(other, 'POST', `/api/v1/requests/${id}/consume`, {})).status).toBe(404);
    // A secret-signed client does not see it either.
    expect((await h.api.request(id)).status).toBe(404);
    // A later job of the same repository (another sub) owns it.
    const later = await token({ claims: { sub: 'repo:acme/web:environment:production' } });
    const cancelled = await call(later, 'POST', `/api/v1/requests/${id}/cancel`, { reason: 'superseded' });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', attestation: null });
  });

  it('refuses a webhook-id sent with a token for another call within 300 s (409), and lets its retry through', async () => {
    const first = await call(await token(), 'POST', '/api/v1/requests', deployBody(), 'deploy-88-1');
    expect(first.status).toBe(201);
    const id = first.body.id as string;
    expect((await call(await token(), 'GET', `/api/v1/requests/${id}`, undefined, 'poll-88-1')).status).toBe(
      200,
    );
    expect((await call(await token(), 'GET', `/api/v1/requests/${id}`, undefined, 'poll-88-1')).status).toBe(
      200,
    );
    for (const [method, target] of [
      ['POST', `/api/v1/requests/${id}/cancel`],
      ['POST', `/api/v1/requests/${id}/consume`],
      ['GET', `/api/v1/requests/${id}?wait=1`],
    ] as const) {
      const reused = await call(
        await token(),
        method,
        target,
        method === 'POST' ? {} : undefined,
        'poll-88-1',
      );
      expect(reused, `${method} ${target}`).toMatchObject({
        status: 409,
        body: { error: 'webhook_id_reused' },
      });
    }
    const create = await call(await token(), 'POST', '/api/v1/requests', deployBody(), 'poll-88-1');
    expect(create).toMatchObject({ status: 409, body: { error: 'webhook_id_reused' } });
    expect((await call(await token(), 'GET', `/api/v1/requests/${id}`)).body).toMatchObject({
      status: 'pending',
    });
  });

  it('refuses a callback_url from an OIDC caller, which has no secret to sign callbacks with', async () => {
    const res = await call(
      await token(),
      'POST',
      '/api/v1/requests',
      deployBody({ callback_url: 'http://127.0.0.1:9/hook' }),
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ issues: [{ path: 'callback_url' }] });
  });
});

describe('when the issuer cannot be reached', () => {
  it('answers 503 with Retry-After while no key is cached, then serves from cached keys', async () => {
    const down = await startOidcIssuer();
    await down.addKey('EdDSA');
    const d = mkdtempSync(join(tmpdir(), 'countersign-oidc-down-'));
    let t = Date.now();
    const server = await startHarness({
      dir: d,
      now: () => t,
      env: { COUNTERSIGN_OIDC: `gitlab=${down.url}` },
    });
    try {
      const send = async () =>
        bearerCall(server.server.url, await down.token({ now: t }), 'POST', '/api/v1/requests', {
          ...deployBody(),
          requester: { email: PEOPLE.alice.email },
        });
      down.down = true;
      const unavailable = await send();
      expect(unavailable.status).toBe(503);
      expect(unavailable.body).toMatchObject({ error: 'oidc_unavailable', reason: 'keys_unavailable' });
      expect(unavailable.headers.get('retry-after')).toBe('10');
      down.down = false;
      t += 11_000;
      expect((await send()).status).toBe(201);
      // Down again, and the cached keys are due for a refresh: they still serve (up to 24 h).
      down.down = true;
      t += 11 * 60_000;
      const cached = await send();
      expect(cached.status).toBe(201);
      expect(cached.body.client).toBe('gitlab');
    } finally {
      await server.stop();
      await down.stop();
    }
  });
});
