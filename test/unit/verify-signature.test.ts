import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signPayload, verifySignature } from '../../src/http/verify-signature.js';

const keyA = Buffer.from('client-a-secret-key-123456');
const keyB = Buffer.from('client-b-secret-key-654321');
const clients = [
  { name: 'a', key: keyA },
  { name: 'b', key: keyB },
];
const whsec = (k: Buffer) => `whsec_${k.toString('base64')}`;
const now = 1_750_000_000_000;

function headers(key: Buffer, id: string, tsSec: number, payload: string) {
  const h = signPayload(key, id, tsSec, payload);
  return { id: h['webhook-id'], timestamp: h['webhook-timestamp'], signature: h['webhook-signature'] };
}

describe('verifySignature', () => {
  it('identifies the client whose secret verifies', () => {
    const r = verifySignature(headers(keyB, 'msg_1', now / 1000, '{}'), '{}', clients, now);
    expect(r).toEqual({ ok: true, client: 'b', webhookId: 'msg_1' });
  });

  it('interoperates with the standardwebhooks package', () => {
    const sig = new Webhook(whsec(keyA)).sign('msg_2', new Date(now), '{"x":1}');
    const r = verifySignature(
      { id: 'msg_2', timestamp: String(now / 1000), signature: sig },
      '{"x":1}',
      clients,
      now,
    );
    expect(r.ok).toBe(true);
    // and the other way: what we sign, the package verifies
    const h = signPayload(keyA, 'msg_3', Math.floor(Date.now() / 1000), '{"y":2}');
    expect(new Webhook(whsec(keyA)).verify('{"y":2}', h)).toEqual({ y: 2 });
  });

  it('accepts any of several space-separated signatures', () => {
    const good = headers(keyA, 'msg_4', now / 1000, 'p');
    const r = verifySignature({ ...good, signature: `v1,AAAA v1a,zzz ${good.signature}` }, 'p', clients, now);
    expect(r.ok).toBe(true);
  });

  it('refuses a changed payload, id or timestamp', () => {
    const h = headers(keyA, 'msg_5', now / 1000, 'payload');
    expect(verifySignature(h, 'payload!', clients, now).ok).toBe(false);
    expect(verifySignature({ ...h, id: 'msg_6' }, 'payload', clients, now).ok).toBe(false);
    expect(verifySignature({ ...h, timestamp: String(now / 1000 + 1) }, 'payload', clients, now).ok).toBe(
      false,
    );
  });

  it('allows exactly ±300 s, refuses 301 s either way', () => {
    for (const [delta, ok] of [
      [-300, true],
      [300, true],
      [-301, false],
      [301, false],
    ] as const) {
      const ts = now / 1000 + delta;
      expect(verifySignature(headers(keyA, 'm', ts, 'x'), 'x', clients, now).ok).toBe(ok);
    }
  });

  it('refuses missing headers and garbage', () => {
    expect(
      verifySignature({ id: undefined, timestamp: '1', signature: 'v1,x' }, 'x', clients, now),
    ).toMatchObject({ ok: false });
    expect(
      verifySignature({ id: 'm', timestamp: 'soon', signature: 'v1,x' }, 'x', clients, now),
    ).toMatchObject({ ok: false });
    expect(
      verifySignature({ id: 'm', timestamp: String(now / 1000), signature: 'v2,abc' }, 'x', clients, now),
    ).toMatchObject({
      ok: false,
    });
  });
});
