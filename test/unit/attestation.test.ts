import { createHash, generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { keyIdOf } from '../../src/audit/keys.js';
import { type AttestationFacts, signAttestation } from '../../src/identity/attestation-sign.js';
import { verifyAttestation } from '../../src/identity/attestation-verify.js';
import { jwksDocument, keyRetirements } from '../../src/identity/jwks-document.js';
import { tamper } from '../support/oidc-issuer.js';

function auditKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    keyId: keyIdOf(publicKey),
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const KEY = auditKey();
const DECIDED = Date.UTC(2026, 0, 15, 12, 0, 0, 750);
const BODY = '{"action":"deploy.production","title":"Deploy web"}';
const SHA = createHash('sha256').update(BODY).digest('hex');

const facts = (over: Partial<AttestationFacts> = {}): AttestationFacts => ({
  requestId: 'req_01JABCDEF',
  action: 'deploy.production',
  resource: 'acme/web',
  environment: 'production',
  client: 'github',
  payloadSha256: SHA,
  approvers: ['U0BOB00001', 'U0CAROL001'],
  decidedAt: DECIDED,
  ttlSeconds: 900,
  issuer: 'https://countersign.example.com',
  ...over,
});

const jwks = () =>
  jwksDocument([{ keyId: KEY.keyId, publicKeyPem: KEY.publicKeyPem, retiredAt: null }], DECIDED);
const at = (ms: number) => ({ now: DECIDED + ms });

describe('signAttestation', () => {
  it('signs a compact JWS with EdDSA, the audit key id and the attestation typ, and the §12 claims', async () => {
    const token = await signAttestation(KEY, facts());
    expect(token.split('.')).toHaveLength(3);
    expect(decodeProtectedHeader(token)).toEqual({
      alg: 'EdDSA',
      kid: KEY.keyId,
      typ: 'countersign-approval+jwt',
    });
    const iat = Math.floor(DECIDED / 1000);
    expect(decodeJwt(token)).toEqual({
      iss: 'https://countersign.example.com',
      sub: 'req_01JABCDEF',
      action: 'deploy.production',
      resource: 'acme/web',
      environment: 'production',
      client: 'github',
      payload_sha256: SHA,
      approvers: ['U0BOB00001', 'U0CAROL001'],
      iat,
      exp: iat + 900,
    });
  });

  it('leaves iss out without COUNTERSIGN_PUBLIC_URL, and keeps absent fields as null', async () => {
    const claims = decodeJwt(
      await signAttestation(KEY, facts({ issuer: null, resource: null, environment: null })),
    );
    expect(claims).not.toHaveProperty('iss');
    expect(claims).toMatchObject({ resource: null, environment: null });
  });

  it('refuses a key that is not Ed25519', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => signAttestation({ keyId: 'x', privateKey }, facts())).toThrow(/Ed25519/);
  });
});

describe('verifyAttestation', () => {
  it('verifies with the JWKS, and checks the payload SHA-256 and the action when given', async () => {
    const token = await signAttestation(KEY, facts());
    const result = await verifyAttestation(token, await jwks(), {
      ...at(60_000),
      payloadSha256: SHA,
      action: 'deploy.production',
    });
    expect(result).toMatchObject({ ok: true, keyId: KEY.keyId, claims: { sub: 'req_01JABCDEF' } });
  });

  it('fails on a payload mismatch and an action mismatch, naming both', async () => {
    const token = await signAttestation(KEY, facts());
    const result = await verifyAttestation(token, await jwks(), {
      ...at(1000),
      payloadSha256: createHash('sha256').update(`${BODY} `).digest('hex'),
      action: 'deploy.staging',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failures.map((f) => f.check)).toEqual(['payload', 'action']);
    expect(result.failures[1]?.message).toBe(
      'the approval is for action "deploy.production", not "deploy.staging"',
    );
    expect(result.claims?.sub).toBe('req_01JABCDEF');
  });

  it('fails a tampered token', async () => {
    const token = tamper(await signAttestation(KEY, facts()), (c) => ({ ...c, action: 'db.drop' }));
    const result = await verifyAttestation(token, await jwks(), at(1000));
    expect(result).toMatchObject({ ok: false, claims: null, failures: [{ check: 'signature' }] });
  });

  it('fails once expired (valid just before exp, not at it)', async () => {
    const token = await signAttestation(KEY, facts({ ttlSeconds: 60 }));
    const exp = (Math.floor(DECIDED / 1000) + 60) * 1000;
    expect((await verifyAttestation(token, await jwks(), { now: exp - 1000 })).ok).toBe(true);
    const late = await verifyAttestation(token, await jwks(), { now: exp, payloadSha256: SHA });
    expect(late).toMatchObject({ ok: false, failures: [{ check: 'expiry' }] });
    if (!late.ok) expect(late.failures[0]?.message).toContain(new Date(exp).toISOString());
  });

  it('fails with a key that is not in the JWKS, and a token of another typ from the same key', async () => {
    const stranger = auditKey();
    const foreign = await signAttestation(stranger, facts());
    expect(await verifyAttestation(foreign, await jwks(), at(0))).toMatchObject({
      ok: false,
      failures: [{ check: 'signature' }],
    });
    const plain = await new SignJWT({ sub: 'req_1' })
      .setProtectedHeader({ alg: 'EdDSA', kid: KEY.keyId, typ: 'JWT' })
      .setIssuedAt(Math.floor(DECIDED / 1000))
      .setExpirationTime(Math.floor(DECIDED / 1000) + 60)
      .sign(KEY.privateKey);
    const other = await verifyAttestation(plain, await jwks(), at(0));
    expect(other.ok ? [] : other.failures.map((f) => f.check)).toEqual(['typ', 'claims']);
  });

  it('refuses a token signed with another algorithm even under a known kid', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const doc = await jwks();
    doc.keys.push({ ...(await exportJWK(publicKey)), kid: 'ec-1' });
    const token = await new SignJWT({ sub: 'req_1' })
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-1', typ: 'countersign-approval+jwt' })
      .setExpirationTime(Math.floor(DECIDED / 1000) + 60)
      .sign(privateKey);
    expect(await verifyAttestation(token, doc, at(0))).toMatchObject({
      ok: false,
      failures: [{ check: 'signature' }],
    });
  });

  it('reports what is not a JWS', async () => {
    expect(await verifyAttestation('hello', await jwks())).toMatchObject({
      ok: false,
      failures: [{ check: 'format' }],
    });
  });
});

describe('jwksDocument', () => {
  it('publishes each live key as an Ed25519 JWK with its kid', async () => {
    const doc = await jwks();
    expect(doc.keys).toEqual([
      { kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: KEY.keyId, alg: 'EdDSA', use: 'sig' },
    ]);
  });

  it('keeps a rotated-out key while attestations it signed may be live, then drops it', async () => {
    const old = auditKey();
    const retiredAt = DECIDED;
    const keys = [
      { keyId: old.keyId, publicKeyPem: old.publicKeyPem, retiredAt },
      { keyId: KEY.keyId, publicKeyPem: KEY.publicKeyPem, retiredAt: null },
    ];
    // Signed by the old key just before it retired: still verifiable through the published JWKS.
    const token = await signAttestation(old, facts({ decidedAt: retiredAt - 1000 }));
    const soon = await jwksDocument(keys, retiredAt + 60_000);
    expect(soon.keys.map((k) => k.kid)).toEqual([old.keyId, KEY.keyId]);
    expect((await verifyAttestation(token, soon, { now: retiredAt + 60_000 })).ok).toBe(true);
    // A day after it retired nothing it signed can be valid (the longest lifetime policy allows).
    const later = await jwksDocument(keys, retiredAt + 86_400_000);
    expect(later.keys.map((k) => k.kid)).toEqual([KEY.keyId]);
  });

  it('derives when keys retired from the key events', () => {
    const retired = keyRetirements([
      { at: 1, keyId: 'a' },
      { at: 5, keyId: 'b' },
      { at: 9, keyId: 'a' },
      { at: 12, keyId: 'c' },
    ]);
    expect(Object.fromEntries(retired)).toEqual({ a: 12, b: 9, c: null });
  });
});
