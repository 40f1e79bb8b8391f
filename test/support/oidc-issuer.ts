import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

/**
 * A local OIDC issuer for tests: keys made in the test, discovery and JWKS served on 127.0.0.1,
 * every request it receives counted. It signs ID tokens shaped like GitHub Actions ones, and also
 * stands in for GitHub's ID token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`), handing out its tokens.
 */

/** RS256, ES256 and EdDSA are what the server accepts; RS512 and PS256 keys are there to be refused. */
export type IssuerAlg = 'RS256' | 'ES256' | 'EdDSA' | 'RS512' | 'PS256';

export interface IssuerKey {
  kid: string;
  alg: IssuerAlg;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface LocalIssuer {
  /** The issuer URL (`iss`), e.g. http://127.0.0.1:41234 */
  url: string;
  /** Every request path it received, in order. */
  requests: string[];
  /** How many requests reached `path` (all paths when omitted). */
  count(path?: string): number;
  /** The keys it publishes in its JWKS, in order. */
  published: IssuerKey[];
  /** Makes a key; published unless `publish` is false. */
  addKey(alg: IssuerAlg, opts?: { kid?: string; publish?: boolean }): Promise<IssuerKey>;
  /** While true, discovery and JWKS answer 503. */
  down: boolean;
  /** What a GitHub Actions job with `id-token: write` has in its environment, pointing here. */
  githubEnv: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  /** The tokens handed out by the GitHub endpoint, with the audience asked for. */
  githubTokens: { audience: string | null; token: string }[];
  /** Claims (e.g. `exp`) of the tokens the GitHub endpoint hands out next. */
  githubClaims: JWTPayload;
  /** A signed token: GitHub-like claims around `now` (Unix ms), overridden by `claims`. */
  token(opts?: {
    claims?: JWTPayload;
    key?: IssuerKey;
    kid?: string | null;
    now?: number;
    header?: Record<string, unknown>;
  }): Promise<string>;
  stop(): Promise<void>;
}

let kidCounter = 0;
const GITHUB_REQUEST_TOKEN = 'gh-request-token';

export async function startOidcIssuer(opts: { audience?: string } = {}): Promise<LocalIssuer> {
  const audience = opts.audience ?? 'countersign';
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path.startsWith('/_github/token')) {
      if (req.headers.authorization !== `bearer ${GITHUB_REQUEST_TOKEN}`)
        return send(403, { message: 'bad request token' });
      const audience = new URL(path, 'http://x').searchParams.get('audience');
      void issuer
        .token({ claims: { ...(audience ? { aud: audience } : {}), ...issuer.githubClaims } })
        .then((token) => {
          issuer.githubTokens.push({ audience, token });
          send(200, { count: 1, value: token });
        });
      return;
    }
    if (issuer.down) return send(503, { error: 'unavailable' });
    if (path === '/.well-known/openid-configuration') {
      return send(200, {
        issuer: issuer.url,
        jwks_uri: `${issuer.url}/.well-known/jwks`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (path === '/.well-known/jwks') return send(200, { keys: issuer.published.map((k) => k.publicJwk) });
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const issuer: LocalIssuer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (path) => (path === undefined ? requests.length : requests.filter((p) => p === path).length),
    published: [],
    down: false,
    githubEnv: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/_github/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: GITHUB_REQUEST_TOKEN,
    },
    githubTokens: [],
    githubClaims: {},
    async addKey(alg, o = {}) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = o.kid ?? `key-${++kidCounter}`;
      const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
      const key = { kid, alg, privateKey, publicJwk };
      if (o.publish !== false) issuer.published.push(key);
      return key;
    },
    async token(o = {}) {
      const key = o.key ?? issuer.published[0];
      if (key === undefined) throw new Error('the issuer has no key: call addKey first');
      const iat = Math.floor((o.now ?? Date.now()) / 1000);
      const claims: JWTPayload = {
        iss: issuer.url,
        aud: audience,
        sub: 'repo:acme/web:ref:refs/heads/main',
        iat,
        nbf: iat - 5,
        exp: iat + 300,
        jti: `jti-${iat}-${kidCounter}`,
        repository: 'acme/web',
        repository_id: '4242',
        repository_owner: 'acme',
        ref: 'refs/heads/main',
        sha: 'a'.repeat(40),
        workflow: 'deploy',
        actor: 'octocat',
        actor_id: '583231',
        event_name: 'push',
        run_id: '9001',
        run_attempt: '1',
        ...o.claims,
      };
      const kid = o.kid === undefined ? key.kid : o.kid;
      const header = { alg: key.alg, typ: 'JWT', ...(kid === null ? {} : { kid }), ...o.header };
      return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return issuer;
}

/** base64url of a JSON value, for hand-made tokens. */
export const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The token with its payload replaced by `claims` and its signature kept (a tampered token). */
export function tamper(
  token: string,
  change: (claims: Record<string, unknown>) => Record<string, unknown>,
): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  return `${header}.${b64json(change(claims))}.${signature}`;
}
