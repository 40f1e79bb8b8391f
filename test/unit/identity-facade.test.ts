import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyIdOf } from '../../src/audit/keys.js';
import { parsePolicy } from '../../src/core/policy.js';
import { Identity, verifyAttestation } from '../../src/identity/index.js';
import { type LocalIssuer, startOidcIssuer } from '../support/oidc-issuer.js';

// The one object the server wires: bearer authentication, attestations on approval, the JWKS.

let issuer: LocalIssuer;
beforeAll(async () => {
  issuer = await startOidcIssuer();
  await issuer.addKey('ES256');
});
afterAll(async () => {
  await issuer.stop();
});

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const key = { keyId: keyIdOf(publicKey), privateKey };
const published = [
  {
    keyId: key.keyId,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    retiredAt: null,
  },
];
const request = {
  id: 'req_1',
  action: 'deploy.web',
  resource: null,
  environment: 'production',
  client: 'github',
  payloadSha256: 'ab'.repeat(32),
  policyRule: 'prod',
};

describe('Identity', () => {
  const identity = () =>
    new Identity(
      {
        oidcIssuers: [{ name: 'github', url: issuer.url }],
        oidcAudience: 'countersign',
        publicUrl: 'https://cs.example',
      },
      key,
    );

  it('authenticates a bearer header, and answers null when there is none', async () => {
    const id = identity();
    expect(await id.authenticateBearer(undefined)).toBeNull();
    expect(await id.authenticateBearer('Basic x')).toBeNull();
    expect(await id.authenticateBearer(`Bearer ${await issuer.token()}`)).toMatchObject({
      ok: true,
      client: 'github',
    });
    expect(await id.authenticateBearer('Bearer nope')).toMatchObject({ ok: false, status: 401 });
  });

  it('attests an approval with its approvers and the lifetime of the rule that governed it', async () => {
    const policy = parsePolicy(
      'version: 1\nrules:\n  - name: prod\n    match: {}\n    attestation_ttl_seconds: 120\n',
      'p.yml',
    );
    if (!policy.ok) throw new Error(policy.errors.join());
    const decidedAt = Date.now();
    const votes = [
      { userId: 'U0BOB00001', decision: 'approve' as const },
      { userId: 'U0CAROL001', decision: 'approve' as const },
    ];
    const token = await identity().attest(request, votes, decidedAt, policy.policy);
    expect(decodeJwt(token)).toMatchObject({
      iss: 'https://cs.example',
      approvers: ['U0BOB00001', 'U0CAROL001'],
    });
    const claims = decodeJwt(token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(120);
    const jwks = await identity().jwks(published, decidedAt);
    expect(await verifyAttestation(token, jwks, { now: decidedAt })).toMatchObject({ ok: true });
    // An auto-approved request has no voters; without a policy the lifetime is 15 minutes.
    const auto = decodeJwt(await identity().attest(request, [], decidedAt, null));
    expect(auto.approvers).toEqual([]);
    expect((auto.exp as number) - (auto.iat as number)).toBe(900);
  });
});
