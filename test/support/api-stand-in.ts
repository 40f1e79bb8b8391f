import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keyIdOf } from '../../src/audit/keys.js';
import type { RequestObject } from '../../src/client/index.js';
import { signAttestation } from '../../src/identity/attestation-sign.js';
import { jwksDocument } from '../../src/identity/jwks-document.js';

/**
 * A stand-in for the Countersign API and for GitHub's ID token endpoint, for client and CLI tests
 * of the OIDC transport and consume before the server wires them: it records every call with its
 * headers, approves each request at once with a real attestation (signed by a key made here), lets
 * the first consume through and refuses the next, and serves the JWKS.
 */
export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface StandIn {
  url: string;
  calls: Recorded[];
  /** Calls to the API only (not the GitHub token endpoint or the JWKS). */
  apiCalls(): Recorded[];
  /** The token GitHub's stand-in hands out for an audience; `githubTokens` counts them. */
  githubEnv: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  githubTokens: { audience: string | null; token: string }[];
  /** The `exp` (Unix seconds) of the next GitHub tokens. */
  githubTokenExp: number;
  stop(): Promise<void>;
}

const unsignedJwt = (claims: object) =>
  `${Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

export async function startStandIn(): Promise<StandIn> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key = { keyId: keyIdOf(publicKey), privateKey };
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const requests = new Map<string, RequestObject>();
  const byKey = new Map<string, string>();
  const calls: Recorded[] = [];
  let counter = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = req.url ?? '/';
      calls.push({ method: req.method ?? 'GET', url, headers: req.headers, body });
      handle(req.method ?? 'GET', url, req.headers, body)
        .then(([status, answer]) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(answer));
        })
        .catch((err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        });
    });
  });

  async function handle(method: string, url: string, headers: IncomingMessage['headers'], body: string) {
    const path = url.split('?')[0] as string;
    if (path === '/_github/token') {
      if (headers.authorization !== 'bearer gh-request-token')
        return [403, { message: 'bad request token' }] as const;
      const audience = new URL(url, 'http://x').searchParams.get('audience');
      const token = unsignedJwt({
        aud: audience,
        n: stand.githubTokens.length + 1,
        exp: stand.githubTokenExp,
      });
      stand.githubTokens.push({ audience, token });
      return [200, { count: 1, value: token }] as const;
    }
    if (path === '/.well-known/jwks.json') {
      return [
        200,
        await jwksDocument([{ keyId: key.keyId, publicKeyPem: pem, retiredAt: null }], Date.now()),
      ] as const;
    }
    if (!headers.authorization?.startsWith('Bearer ') && !headers['webhook-signature']) {
      return [401, { error: 'invalid_signature' }] as const;
    }
    if (method === 'POST' && path === '/api/v1/requests') {
      // The same webhook-id is the same request (idempotency), as on the real server.
      const idempotencyKey = String(headers['webhook-id']);
      const existing = byKey.get(idempotencyKey);
      if (existing !== undefined) return [200, requests.get(existing)] as const;
      const input = JSON.parse(body) as {
        action: string;
        title: string;
        requester: object;
        environment?: string;
      };
      const id = `req_${++counter}`;
      const now = Date.now();
      const sha = createHash('sha256').update(body).digest('hex');
      const attestation = await signAttestation(key, {
        requestId: id,
        action: input.action,
        resource: null,
        environment: input.environment ?? null,
        client: 'github',
        payloadSha256: sha,
        approvers: ['U0BOB00001'],
        decidedAt: now,
        ttlSeconds: 900,
        issuer: null,
      });
      const iso = new Date(now).toISOString();
      const approved: RequestObject = {
        id,
        status: 'approved',
        action: input.action,
        title: input.title,
        requester: input.requester,
        client: 'github',
        risk: 'medium',
        summary: null,
        resource: null,
        environment: input.environment ?? null,
        created_at: iso,
        expires_at: new Date(now + 3600_000).toISOString(),
        decided_at: iso,
        decided_by: 'U0BOB00001',
        min_approvals: 1,
        votes: [{ user_id: 'U0BOB00001', name: null, decision: 'approve', reason: null, at: iso }],
        reason: null,
        payload_sha256: sha,
        policy: { rule: null, hash: null },
        redactions: 0,
        slack_url: 'https://slack.example/archives/C1/p1',
        delivery_error: null,
        caller: {
          issuer: 'https://token.actions.githubusercontent.com',
          subject: 'repo:acme/web:ref:refs/heads/main',
          claims: {},
        },
        attestation,
        consumed_at: null,
      };
      requests.set(id, approved);
      byKey.set(idempotencyKey, id);
      return [
        201,
        { ...approved, status: 'pending', decided_at: null, decided_by: null, votes: [], attestation: null },
      ] as const;
    }
    const m = /^\/api\/v1\/requests\/([^/]+)(\/consume)?$/.exec(path);
    const found = m ? requests.get(decodeURIComponent(m[1] as string)) : undefined;
    if (!found) return [404, { error: 'not_found' }] as const;
    if (method === 'GET') return [200, found] as const;
    if (method === 'POST' && m?.[2]) {
      if (found.consumed_at !== null)
        return [409, { error: 'already_consumed', consumed_at: found.consumed_at }] as const;
      found.consumed_at = new Date().toISOString();
      return [200, found] as const;
    }
    return [404, { error: 'not_found' }] as const;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stand: StandIn = {
    url,
    calls,
    apiCalls: () => calls.filter((c) => c.url.startsWith('/api/')),
    githubEnv: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/_github/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'gh-request-token',
    },
    githubTokens: [],
    githubTokenExp: Math.floor(Date.now() / 1000) + 600,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return stand;
}
