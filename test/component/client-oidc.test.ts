import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Countersign,
  CountersignError,
  cachedTokenProvider,
  githubActionsTokenProvider,
  payloadSha256,
  verifyApproval,
} from '../../src/client/index.js';
import { type Harness, startHarness } from '../support/harness.js';
import { type LocalIssuer, startOidcIssuer } from '../support/oidc-issuer.js';

// The client's OIDC transport, consume() and verifyApproval() against the real server, which
// accepts ID tokens of a local issuer (audience countersign-prod) and, by policy, approves
// deploy.production at once; every call the client makes is recorded through its fetch option.

const AUDIENCE = 'countersign-prod';
let issuer: LocalIssuer;
let h: Harness;
let dir: string;
let url: string;

interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}
const calls: Recorded[] = [];
const recording: typeof fetch = (input, init) => {
  const body = init?.body;
  calls.push({
    method: init?.method ?? 'GET',
    url: String(input),
    headers: Object.fromEntries(new Headers(init?.headers).entries()),
    body: typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body).toString() : '',
  });
  return fetch(input, init);
};
const apiCalls = () => calls.filter((c) => c.url.startsWith(`${url}/api/`));

beforeAll(async () => {
  issuer = await startOidcIssuer({ audience: AUDIENCE });
  await issuer.addKey('ES256');
  dir = mkdtempSync(join(tmpdir(), 'countersign-client-oidc-'));
  writeFileSync(
    join(dir, 'policy.yml'),
    'version: 1\nrules:\n  - name: prod-auto\n    match: { action: deploy.production }\n    outcome: auto_approve\n',
  );
  h = await startHarness({
    dir,
    env: {
      COUNTERSIGN_OIDC: `github=${issuer.url}`,
      COUNTERSIGN_OIDC_AUDIENCE: AUDIENCE,
      COUNTERSIGN_POLICY: join(dir, 'policy.yml'),
    },
  });
  url = h.server.url;
});
afterAll(async () => {
  await h.stop({ keepDir: true });
  await issuer.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  calls.length = 0;
  issuer.githubTokens.length = 0;
  issuer.githubClaims = {};
});

const BODY = {
  action: 'deploy.production',
  title: 'Deploy web',
  requester: { email: 'octocat@example.com' },
};

describe('client: OIDC bearer transport', () => {
  it('sends the token as Authorization: Bearer, never Standard Webhooks signatures, and keeps webhook-id', async () => {
    const token = await issuer.token();
    const cs = new Countersign({ url, oidcToken: token, env: {}, fetch: recording });
    const created = await cs.requestApproval(BODY, { idempotencyKey: 'deploy-42-1' });
    await cs.get(created.id);
    const [post, get] = apiCalls();
    expect(post?.headers.authorization).toBe(`Bearer ${token}`);
    expect(post?.headers['webhook-id']).toBe('deploy-42-1');
    expect(post?.headers['webhook-signature']).toBeUndefined();
    expect(post?.headers['webhook-timestamp']).toBeUndefined();
    expect(get?.headers.authorization).toBe(`Bearer ${token}`);
    expect(get?.headers['webhook-id']).toMatch(/^msg_/);
    // The server takes webhook-id as the idempotency key: the same key is the same request.
    expect((await cs.requestApproval(BODY, { idempotencyKey: 'deploy-42-1' })).id).toBe(created.id);
    expect(created.caller).toMatchObject({ issuer: issuer.url, claims: { repository: 'acme/web' } });
  });

  it('asks a token provider before every call', async () => {
    const given: string[] = [];
    const provider = async () => {
      given.push(await issuer.token({ claims: { jti: `jti-${given.length}` } }));
      return given.at(-1) as string;
    };
    const cs = new Countersign({ url, oidcToken: provider, env: {}, fetch: recording });
    const created = await cs.requestApproval(BODY);
    await cs.get(created.id);
    expect(given).toHaveLength(2);
    expect(apiCalls().map((c) => c.headers.authorization)).toEqual(given.map((t) => `Bearer ${t}`));
  });

  it('fetches GitHub Actions ID tokens itself, with the configured audience, reusing one until near its expiry', async () => {
    const cs = new Countersign({ url, oidcAudience: AUDIENCE, env: issuer.githubEnv, fetch: recording });
    const created = await cs.requestApproval(BODY);
    expect(created.status).toBe('approved');
    await cs.get(created.id);
    expect(issuer.githubTokens).toHaveLength(1);
    expect(issuer.githubTokens[0]?.audience).toBe(AUDIENCE);
    // The request token goes to GitHub only; the API sees the ID token.
    const auth = apiCalls().map((c) => c.headers.authorization);
    expect(auth).toEqual([
      `Bearer ${issuer.githubTokens[0]?.token}`,
      `Bearer ${issuer.githubTokens[0]?.token}`,
    ]);
    const github = calls.find((c) => c.url.includes('/_github/token'));
    expect(github?.url).toBe(`${issuer.url}/_github/token?api-version=2.0&audience=${AUDIENCE}`);
    expect(github?.headers.authorization).toBe(`bearer ${issuer.githubEnv.ACTIONS_ID_TOKEN_REQUEST_TOKEN}`);
  });

  it('refetches a GitHub token that is within a minute of expiring', async () => {
    let clock = Date.now();
    issuer.githubClaims = { exp: Math.floor(clock / 1000) + 300 };
    const provider = githubActionsTokenProvider({
      env: issuer.githubEnv,
      audience: 'countersign',
      now: () => clock,
    });
    const first = await provider();
    expect(await provider()).toBe(first);
    clock += 241_000;
    const second = await provider();
    expect(second).not.toBe(first);
    expect(issuer.githubTokens).toHaveLength(2);
  });

  it('explains a GitHub token refusal and a missing permission', async () => {
    const refused = githubActionsTokenProvider({
      env: { ...issuer.githubEnv, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' },
      audience: 'countersign',
    });
    await expect(refused()).rejects.toThrow(/HTTP 403.*id-token: write/);
    expect(() => githubActionsTokenProvider({ env: {}, audience: 'countersign' })).toThrow(/id-token: write/);
  });

  it('shares one fetch between concurrent callers', async () => {
    let fetched = 0;
    const provider = cachedTokenProvider(async () => {
      fetched++;
      return 'no-exp-token';
    });
    await Promise.all([provider(), provider(), provider()]);
    expect(fetched).toBe(1);
  });

  it('needs exactly one kind of credentials', () => {
    expect(() => new Countersign({ url, env: {} })).toThrow(/no credentials/);
    expect(
      () => new Countersign({ url, secret: 'whsec_MDEyMzQ1Njc4OWFiY2RlZg==', oidcToken: 't', env: {} }),
    ).toThrow(/either secret or oidcToken/);
  });
});

describe('client: consume and verifyApproval', () => {
  it('consumes once with one webhook-id across retries, then reports already_consumed', async () => {
    const cs = new Countersign({ url, oidcToken: () => issuer.token(), env: {}, fetch: recording });
    const created = await cs.requestApproval(BODY);
    const consumed = await cs.consume(created.id);
    expect(consumed.consumed_at).not.toBeNull();
    const call = apiCalls().find((c) => c.url.endsWith('/consume'));
    expect(call).toMatchObject({
      method: 'POST',
      url: `${url}/api/v1/requests/${created.id}/consume`,
      body: '{}',
    });
    const again = await cs.consume(created.id).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(CountersignError);
    expect(again).toMatchObject({ status: 409, code: 'already_consumed' });
    expect((again as Error).message).toContain('already been used');
  });

  it('verifies an approval with the server JWKS, the payload and the action', async () => {
    const cs = new Countersign({ url, oidcToken: () => issuer.token(), env: {} });
    const text = JSON.stringify(BODY);
    const created = await cs.requestApproval(text);
    const approved = await cs.get(created.id);
    expect(payloadSha256(text)).toBe(approved.payload_sha256);
    const good = await cs.verifyApproval(approved, { payload: text, action: 'deploy.production' });
    expect(good).toMatchObject({ ok: true, claims: { sub: created.id, client: 'github', approvers: [] } });
    const bad = await verifyApproval(approved.attestation as string, {
      jwks: `${url}/.well-known/jwks.json`,
      payload: `${text}\n`,
      action: 'deploy.staging',
    });
    expect(bad.ok ? [] : bad.failures.map((f) => f.check)).toEqual(['payload', 'action']);
    // A request without an attestation (still pending) is a failure, not an exception.
    const pending = await cs.requestApproval({ ...BODY, action: 'deploy.staging' });
    expect(pending.attestation).toBeNull();
    expect(await cs.verifyApproval(pending)).toMatchObject({ ok: false, failures: [{ check: 'format' }] });
  });

  it('throws jwks_unavailable when the keys cannot be fetched', async () => {
    await expect(verifyApproval('a.b.c', { jwks: `${url}/nowhere.json` })).rejects.toMatchObject({
      code: 'jwks_unavailable',
    });
  });
});
