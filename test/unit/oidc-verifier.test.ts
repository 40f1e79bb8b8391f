import { createServer as createTcpServer, type Socket } from 'node:net';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearerToken, type OidcResult, OidcVerifier } from '../../src/identity/oidc-verifier.js';
import {
  b64json,
  type IssuerKey,
  type LocalIssuer,
  startOidcIssuer,
  tamper,
} from '../support/oidc-issuer.js';

let issuer: LocalIssuer;
let other: LocalIssuer;
let rsa: IssuerKey;
let now: number;
const START = Date.UTC(2026, 0, 15, 12, 0, 0);
const DISCOVERY = '/.well-known/openid-configuration';
const JWKS = '/.well-known/jwks';

beforeAll(async () => {
  issuer = await startOidcIssuer();
  other = await startOidcIssuer();
  rsa = await issuer.addKey('RS256');
  await other.addKey('RS256');
});
afterAll(async () => {
  await issuer.stop();
  await other.stop();
});

let verifier: OidcVerifier;
beforeEach(() => {
  now = START;
  issuer.down = false;
  issuer.requests.length = 0;
  other.requests.length = 0;
  verifier = new OidcVerifier({
    issuers: [{ name: 'github', url: issuer.url }],
    audience: 'countersign',
    now: () => now,
    timeoutMs: 2000,
  });
});
afterEach(() => {
  issuer.published.splice(1);
});

function refused(result: OidcResult) {
  if (result.ok) throw new Error('expected a refusal, got a caller');
  return result;
}

describe('OidcVerifier: tokens it accepts', () => {
  it('accepts a valid token and returns the client name and the caller with its claims', async () => {
    const result = await verifier.verify(await issuer.token({ now }));
    expect(result).toEqual({
      ok: true,
      client: 'github',
      caller: {
        issuer: issuer.url,
        subject: 'repo:acme/web:ref:refs/heads/main',
        claims: expect.objectContaining({
          repository: 'acme/web',
          ref: 'refs/heads/main',
          workflow: 'deploy',
          actor: 'octocat',
          run_id: '9001',
        }),
      },
    });
    // Token mechanics are not kept as claims, and neither is the raw token.
    const claims = result.ok ? result.caller.claims : {};
    for (const k of ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']) expect(claims).not.toHaveProperty(k);
    expect(JSON.stringify(result)).not.toContain('eyJ');
  });

  it('accepts ES256 and EdDSA tokens, and a token without kid when a key fits', async () => {
    const ec = await issuer.addKey('ES256');
    const ed = await issuer.addKey('EdDSA');
    expect((await verifier.verify(await issuer.token({ now, key: ec }))).ok).toBe(true);
    expect((await verifier.verify(await issuer.token({ now, key: ed }))).ok).toBe(true);
    expect((await verifier.verify(await issuer.token({ now, key: ed, kid: null }))).ok).toBe(true);
  });

  it('allows 60 s of clock difference on exp and nbf', async () => {
    const token = await issuer.token({ now, claims: { exp: now / 1000 - 50, nbf: now / 1000 + 50 } });
    expect((await verifier.verify(token)).ok).toBe(true);
  });

  it('reads the bearer token from an Authorization header', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer  abc.def.ghi ')).toBe('abc.def.ghi');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});

describe('OidcVerifier: tokens it refuses (401)', () => {
  it('refuses a wrong audience', async () => {
    const r = refused(await verifier.verify(await issuer.token({ now, claims: { aud: 'someone-else' } })));
    expect(r).toMatchObject({ status: 401, error: 'invalid_token', reason: 'audience' });
    expect(r.message).toContain('"countersign"');
  });

  it('refuses an expired token, beyond the leeway', async () => {
    const token = await issuer.token({ now: now - 10 * 60_000 });
    expect(refused(await verifier.verify(token))).toMatchObject({ status: 401, reason: 'expired' });
  });

  it('refuses a token that is not yet valid, beyond the leeway', async () => {
    const token = await issuer.token({ now, claims: { nbf: now / 1000 + 120 } });
    expect(refused(await verifier.verify(token))).toMatchObject({ status: 401, reason: 'not_yet_valid' });
  });

  it('refuses alg none without fetching anything', async () => {
    const claims = { iss: issuer.url, aud: 'countersign', sub: 'x', exp: now / 1000 + 300 };
    const token = `${b64json({ alg: 'none', typ: 'JWT' })}.${b64json(claims)}.`;
    const r = refused(await verifier.verify(token));
    expect(r).toMatchObject({ status: 401, reason: 'algorithm' });
    expect(r.message).toContain('alg none');
    expect(issuer.count()).toBe(0);
  });

  it('refuses HS256 signed with the issuer public key (key confusion)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(rsa.publicJwk));
    const token = await new SignJWT({ iss: issuer.url, aud: 'countersign', sub: 'x' })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .setExpirationTime(now / 1000 + 300)
      .sign(secret);
    expect(refused(await verifier.verify(token))).toMatchObject({ status: 401, reason: 'algorithm' });
  });

  it('refuses RS512 and PS256 tokens, though validly signed with a key the issuer publishes', async () => {
    for (const alg of ['RS512', 'PS256'] as const) {
      const key = await issuer.addKey(alg);
      expect(key.publicJwk).toMatchObject({ kty: 'RSA', alg, kid: key.kid });
      const token = await issuer.token({ now, key });
      // The token itself is sound: its signature verifies with the published key under its own alg.
      const published = createLocalJWKSet({ keys: issuer.published.map((k) => k.publicJwk) });
      const sound = await jwtVerify(token, published, { algorithms: [alg], currentDate: new Date(now) });
      expect(sound.protectedHeader).toMatchObject({ alg, kid: key.kid });
      const r = refused(await verifier.verify(token));
      expect(r, alg).toMatchObject({ status: 401, error: 'invalid_token', reason: 'algorithm' });
      expect(r.message).toContain(`alg ${alg}`);
    }
  });

  it('refuses a token whose alg does not fit the key its kid names', async () => {
    const ec = await issuer.addKey('ES256', { publish: false });
    // Signed with an EC key, but naming the published RSA key.
    const token = await issuer.token({ now, key: ec, kid: rsa.kid });
    expect(refused(await verifier.verify(token))).toMatchObject({ status: 401, reason: 'wrong_key' });
  });

  it('refuses a token from an issuer that is not listed, and never contacts it', async () => {
    const token = await other.token({ now });
    const r = refused(await verifier.verify(token));
    expect(r).toMatchObject({ status: 401, reason: 'unknown_issuer', issuer: null });
    expect(other.count()).toBe(0);
    expect(issuer.count()).toBe(0);
  });

  it('compares iss exactly (a trailing slash is another issuer)', async () => {
    const token = await issuer.token({ now, claims: { iss: `${issuer.url}/` } });
    expect(refused(await verifier.verify(token))).toMatchObject({ reason: 'unknown_issuer' });
  });

  it('refuses the right kid signed with the wrong key', async () => {
    const impostor = await issuer.addKey('RS256', { publish: false });
    const token = await issuer.token({ now, key: impostor, kid: rsa.kid });
    expect(refused(await verifier.verify(token))).toMatchObject({ status: 401, reason: 'signature' });
  });

  it('refuses a tampered payload', async () => {
    const token = tamper(await issuer.token({ now }), (c) => ({ ...c, repository: 'acme/prod-infra' }));
    expect(refused(await verifier.verify(token))).toMatchObject({ status: 401, reason: 'signature' });
  });

  it('refuses what is not a JWT, and a token without sub', async () => {
    expect(refused(await verifier.verify('not-a-token'))).toMatchObject({ status: 401, reason: 'malformed' });
    const token = await issuer.token({ now, claims: { sub: undefined } });
    expect(refused(await verifier.verify(token))).toMatchObject({ status: 401, reason: 'claims' });
  });

  it('refuses every bearer token when no issuer is configured', async () => {
    const none = new OidcVerifier({ issuers: [], audience: 'countersign' });
    expect(none.enabled).toBe(false);
    expect(refused(await none.verify(await issuer.token({ now })))).toMatchObject({ status: 401 });
    expect(issuer.count()).toBe(0);
  });
});

describe('OidcVerifier: keys, rotation and outages', () => {
  it('fetches discovery and the JWKS once, then serves from the cache', async () => {
    for (let i = 0; i < 5; i++) expect((await verifier.verify(await issuer.token({ now }))).ok).toBe(true);
    expect(issuer.requests).toEqual([DISCOVERY, JWKS]);
  });

  it('picks up a rotated key on an unknown kid, at most once per 10 s per issuer', async () => {
    expect((await verifier.verify(await issuer.token({ now }))).ok).toBe(true);
    expect(issuer.count(JWKS)).toBe(1);
    now += 11_000;
    const rotated = await issuer.addKey('RS256');
    expect((await verifier.verify(await issuer.token({ now, key: rotated }))).ok).toBe(true);
    expect(issuer.count(JWKS)).toBe(2);

    // A flood of made-up kids within the next 10 s costs the issuer nothing more.
    const flood = await Promise.all(
      Array.from({ length: 25 }, async (_, i) =>
        verifier.verify(await issuer.token({ now, kid: `made-up-${i}` })),
      ),
    );
    for (const r of flood) expect(refused(r)).toMatchObject({ status: 401, reason: 'unknown_key' });
    expect(issuer.count(JWKS)).toBe(2);

    // A key published during that window is found once the 10 s have passed.
    const third = await issuer.addKey('ES256');
    now += 5_000;
    expect(refused(await verifier.verify(await issuer.token({ now, key: third })))).toMatchObject({
      reason: 'unknown_key',
    });
    expect(issuer.count(JWKS)).toBe(2);
    now += 5_000;
    expect((await verifier.verify(await issuer.token({ now, key: third }))).ok).toBe(true);
    expect(issuer.count(JWKS)).toBe(3);
  });

  it('answers 503 with a clear message when the keys cannot be fetched and none are cached', async () => {
    issuer.down = true;
    const r = refused(await verifier.verify(await issuer.token({ now })));
    expect(r).toMatchObject({
      status: 503,
      error: 'oidc_unavailable',
      reason: 'keys_unavailable',
      issuer: issuer.url,
    });
    expect(r.message).toContain(issuer.url);
    expect(r.message).toContain('HTTP 503');
    expect(r.message).toContain('none are cached');
    // Within 10 s the issuer is not asked again, however many calls come.
    await verifier.verify(await issuer.token({ now }));
    expect(issuer.count()).toBe(1);
  });

  it('answers 503 when the issuer does not answer in time', async () => {
    // Accepts connections and never answers.
    const sockets: Socket[] = [];
    const silent = createTcpServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const v = new OidcVerifier({ issuers: [{ name: 'slow', url }], audience: 'countersign', timeoutMs: 200 });
    const token = await issuer.token({ claims: { iss: url } });
    const r = refused(await v.verify(token));
    expect(r).toMatchObject({ status: 503, reason: 'keys_unavailable' });
    expect(r.message).toContain('no answer within 200 ms');
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('keeps using cached keys while the issuer is down, until they expire', async () => {
    expect((await verifier.verify(await issuer.token({ now }))).ok).toBe(true);
    issuer.down = true;
    // Past the 10 min refresh: the refetch fails, the cached keys still verify.
    now += 30 * 60_000;
    expect((await verifier.verify(await issuer.token({ now }))).ok).toBe(true);
    expect(issuer.count(DISCOVERY)).toBe(2);
    // Past 24 h since the last successful fetch: nothing is trusted any more.
    now += 24 * 3600_000;
    expect(refused(await verifier.verify(await issuer.token({ now })))).toMatchObject({ status: 503 });
    // Back up: keys are fetched again.
    issuer.down = false;
    now += 11_000;
    expect((await verifier.verify(await issuer.token({ now }))).ok).toBe(true);
  });

  it('refuses a discovery document that names another issuer', async () => {
    const v = new OidcVerifier({
      issuers: [{ name: 'alias', url: `${issuer.url}/` }],
      audience: 'countersign',
      now: () => now,
    });
    const token = await issuer.token({ now, claims: { iss: `${issuer.url}/` } });
    const r = refused(await v.verify(token));
    expect(r).toMatchObject({ status: 503 });
    expect(r.message).toContain('"issuer"');
  });
});
