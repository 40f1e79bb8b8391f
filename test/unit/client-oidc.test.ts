import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  Countersign,
  CountersignError,
  cachedTokenProvider,
  githubActionsTokenProvider,
  payloadSha256,
  verifyApproval,
} from '../../src/client/index.js';
import { type StandIn, startStandIn } from '../support/api-stand-in.js';

let api: StandIn;
beforeAll(async () => {
  api = await startStandIn();
});
afterAll(async () => {
  await api.stop();
});
beforeEach(() => {
  api.calls.length = 0;
  api.githubTokens.length = 0;
});

const BODY = {
  action: 'deploy.production',
  title: 'Deploy web',
  requester: { email: 'octocat@example.com' },
};

describe('client: OIDC bearer transport', () => {
  it('sends the token as Authorization: Bearer, never Standard Webhooks signatures, and keeps webhook-id', async () => {
    const cs = new Countersign({ url: api.url, oidcToken: 'the.id.token', env: {} });
    const created = await cs.requestApproval(BODY, { idempotencyKey: 'deploy-42-1' });
    await cs.get(created.id);
    const [post, get] = api.apiCalls();
    expect(post?.headers.authorization).toBe('Bearer the.id.token');
    expect(post?.headers['webhook-id']).toBe('deploy-42-1');
    expect(post?.headers['webhook-signature']).toBeUndefined();
    expect(post?.headers['webhook-timestamp']).toBeUndefined();
    expect(get?.headers.authorization).toBe('Bearer the.id.token');
    expect(get?.headers['webhook-id']).toMatch(/^msg_/);
  });

  it('asks a token provider before every call', async () => {
    let n = 0;
    const cs = new Countersign({ url: api.url, oidcToken: async () => `token-${++n}`, env: {} });
    const created = await cs.requestApproval(BODY);
    await cs.get(created.id);
    expect(api.apiCalls().map((c) => c.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('fetches GitHub Actions ID tokens itself, with the configured audience, reusing one until near its expiry', async () => {
    const cs = new Countersign({ url: api.url, oidcAudience: 'countersign-prod', env: api.githubEnv });
    const created = await cs.requestApproval(BODY);
    await cs.get(created.id);
    expect(api.githubTokens).toHaveLength(1);
    expect(api.githubTokens[0]?.audience).toBe('countersign-prod');
    // The request token goes to GitHub only; the API sees the ID token.
    const auth = api.apiCalls().map((c) => c.headers.authorization);
    expect(auth).toEqual([`Bearer ${api.githubTokens[0]?.token}`, `Bearer ${api.githubTokens[0]?.token}`]);
    const github = api.calls.find((c) => c.url.startsWith('/_github/token'));
    expect(github?.url).toBe('/_github/token?api-version=2.0&audience=countersign-prod');
  });

  it('refetches a GitHub token that is within a minute of expiring', async () => {
    let clock = Date.now();
    api.githubTokenExp = Math.floor(clock / 1000) + 300;
    const provider = githubActionsTokenProvider({
      env: api.githubEnv,
      audience: 'countersign',
      now: () => clock,
    });
    const first = await provider();
    expect(await provider()).toBe(first);
    clock += 241_000;
    const second = await provider();
    expect(second).not.toBe(first);
    expect(api.githubTokens).toHaveLength(2);
    api.githubTokenExp = Math.floor(Date.now() / 1000) + 600;
  });

  it('explains a GitHub token refusal and a missing permission', async () => {
    const refused = githubActionsTokenProvider({
      env: { ...api.githubEnv, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' },
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
    expect(() => new Countersign({ url: api.url, env: {} })).toThrow(/no credentials/);
    expect(
      () =>
        new Countersign({ url: api.url, secret: 'whsec_MDEyMzQ1Njc4OWFiY2RlZg==', oidcToken: 't', env: {} }),
    ).toThrow(/either secret or oidcToken/);
  });
});

describe('client: consume and verifyApproval', () => {
  it('consumes once with one webhook-id across retries, then reports already_consumed', async () => {
    const cs = new Countersign({ url: api.url, oidcToken: 't', env: {} });
    const created = await cs.requestApproval(BODY);
    const consumed = await cs.consume(created.id);
    expect(consumed.consumed_at).not.toBeNull();
    const call = api.apiCalls().find((c) => c.url.endsWith('/consume'));
    expect(call).toMatchObject({ method: 'POST', url: `/api/v1/requests/${created.id}/consume`, body: '{}' });
    const again = await cs.consume(created.id).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(CountersignError);
    expect(again).toMatchObject({ status: 409, code: 'already_consumed' });
    expect((again as Error).message).toContain('already been used');
  });

  it('verifies an approval with the server JWKS, the payload and the action', async () => {
    const cs = new Countersign({ url: api.url, oidcToken: 't', env: {} });
    const text = JSON.stringify(BODY);
    const created = await cs.requestApproval(text);
    const approved = await cs.get(created.id);
    expect(payloadSha256(text)).toBe(approved.payload_sha256);
    const good = await cs.verifyApproval(approved, { payload: text, action: 'deploy.production' });
    expect(good).toMatchObject({ ok: true, claims: { sub: created.id, approvers: ['U0BOB00001'] } });
    const bad = await verifyApproval(approved.attestation as string, {
      jwks: `${api.url}/.well-known/jwks.json`,
      payload: `${text}\n`,
      action: 'deploy.staging',
    });
    expect(bad.ok ? [] : bad.failures.map((f) => f.check)).toEqual(['payload', 'action']);
    // A request without an attestation is a failure, not an exception.
    expect(await cs.verifyApproval(created)).toMatchObject({ ok: false, failures: [{ check: 'format' }] });
  });

  it('throws jwks_unavailable when the keys cannot be fetched', async () => {
    await expect(verifyApproval('a.b.c', { jwks: `${api.url}/nowhere.json` })).rejects.toMatchObject({
      code: 'jwks_unavailable',
    });
  });
});
