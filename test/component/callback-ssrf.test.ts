import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResolvedAddress, Resolver } from '../../src/egress/pinned-post.js';
import { createLogger } from '../../src/log.js';
import { deliverCallback } from '../../src/outbox/callback-delivery.js';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { type Harness, type HarnessOptions, requestBody, sqlRows, startHarness } from '../support/harness.js';
import { waitFor } from '../support/slack-user.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function receiver(): Promise<CallbackReceiver> {
  const rx = await new CallbackReceiver().start();
  cleanup.push(() => rx.stop());
  return rx;
}

async function harness(opts: HarnessOptions): Promise<Harness> {
  const h = await startHarness(opts);
  cleanup.push(() => h.stop());
  return h;
}

/** A resolver that answers from a table (and counts the questions). */
function resolverOf(table: Record<string, (string | string[])[]>) {
  const asked: string[] = [];
  const resolve: Resolver = async (hostname) => {
    asked.push(hostname);
    const answers = table[hostname];
    if (!answers) throw Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' });
    const n = asked.filter((h) => h === hostname).length;
    const answer = answers[Math.min(n, answers.length) - 1] ?? [];
    return (Array.isArray(answer) ? answer : [answer]).map(
      (address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }),
    );
  };
  return { resolve, asked };
}

const KEYS = [{ name: 'ci', key: Buffer.from('ci-secret-key-0123456789abcdef') }];
const payload = (url: string) => ({ url, webhookId: 'msg_ssrf', body: '{"type":"request.cancelled"}' });

describe('callback_url at intake: literal internal addresses in any notation', () => {
  it('answers 400 naming callback_url for each, and 201 for a public name', async () => {
    const h = await harness({ env: { COUNTERSIGN_CALLBACK_ALLOW: 'https://,http://' } });
    for (const url of [
      'https://127.0.0.1/hook',
      'https://localhost/hook',
      'http://localhost.:8080/hook',
      'https://[::1]/hook',
      'https://2130706433/hook',
      'https://0x7f.1/hook',
      'https://017700000001/hook',
      'https://127.1/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://[0:0:0:0:0:ffff:7f00:1]/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fd00:ec2::254]/',
      'http://10.0.0.1/hook',
      'http://192.168.1.1/hook',
      'http://100.64.0.1/hook',
      'http://0.0.0.0/hook',
      'http://[::]/hook',
      'http://[fe80::1]/hook',
    ]) {
      const res = await h.api.create(requestBody({ callback_url: url }));
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
      expect(res.body).toMatchObject({
        error: 'invalid_request',
        issues: [
          {
            path: 'callback_url',
            message: expect.stringContaining('COUNTERSIGN_CALLBACK_ALLOW names the host'),
          },
        ],
      });
    }
    expect((await h.api.create(requestBody({ callback_url: 'https://hooks.example.com/x' }))).status).toBe(
      201,
    );
  });

  it('refuses URLs that escape an allowed path prefix, accepts other spellings of an allowed one', async () => {
    const h = await harness({
      env: { COUNTERSIGN_CALLBACK_ALLOW: 'https://hooks.example.com/countersign/' },
    });
    for (const url of [
      'https://hooks.example.com/countersign/../admin',
      'https://hooks.example.com/countersign/%2e%2e/admin',
      'https://hooks.example.com/countersign/%2E%2E%2Fadmin',
      'https://hooks.example.com/countersign\\..\\admin',
      'https://countersign:x@hooks.example.com/countersign/x',
      'https://hooks.example.com:8443/countersign/x',
    ]) {
      const res = await h.api.create(requestBody({ callback_url: url }));
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
    }
    for (const url of [
      'HTTPS://HOOKS.EXAMPLE.COM:443/countersign/x',
      'https://hooks.example.com/x/../countersign/y',
    ]) {
      const res = await h.api.create(requestBody({ callback_url: url }));
      expect({ url, status: res.status }).toEqual({ url, status: 201 });
    }
  });
});

describe('callback delivery: the address is checked after resolving, and is the one connected to', () => {
  it('refuses a name that resolves to an internal address, for good, without connecting', async () => {
    const rx = await receiver();
    const port = new URL(rx.url).port;
    const table = {
      'loop.example.test': ['127.0.0.1'],
      'mapped.example.test': ['::ffff:127.0.0.1'],
      'six.example.test': ['::1'],
      'meta.example.test': ['169.254.169.254'],
      'meta6.example.test': ['fd00:ec2::254'],
      // One public answer does not make up for a private one beside it.
      'mixed.example.test': [['93.184.216.34', '10.0.0.7']],
    };
    const { resolve } = resolverOf(table);
    for (const host of Object.keys(table)) {
      const result = await deliverCallback(payload(`http://${host}:${port}/hook`), KEYS, Date.now(), {
        allow: ['http://'],
        resolve,
      });
      expect({ host, ...result }).toMatchObject({
        host,
        ok: false,
        permanent: true,
        error: expect.stringMatching(/^refused: .* resolves to .*COUNTERSIGN_CALLBACK_ALLOW names the host/),
      });
    }
    expect(rx.deliveries).toEqual([]);
  });

  it('delivers to an internal host that an allow-list entry names, with the Host header of the URL', async () => {
    const rx = await receiver();
    const port = new URL(rx.url).port;
    const { resolve } = resolverOf({ 'hooks.internal.test': ['127.0.0.1'] });
    const result = await deliverCallback(
      payload(`http://hooks.internal.test:${port}/hook`),
      KEYS,
      Date.now(),
      {
        allow: ['http://', 'http://hooks.internal.test'],
        resolve,
      },
    );
    expect(result).toEqual({ ok: true, status: 200 });
    expect(rx.deliveries).toHaveLength(1);
    expect(rx.deliveries[0]?.headers.host).toBe(`hooks.internal.test:${port}`);
  });

  it('resolves once per attempt and connects to that answer: a second answer (rebinding) is never used', async () => {
    const rx = await receiver();
    const port = new URL(rx.url).port;
    // The first answer is where the receiver listens; any later one points elsewhere (127.0.0.2,
    // where nothing listens on this port). Were the host resolved again to connect, the attempt would
    // fail; were it checked on one answer and connected on another, a check could be dodged.
    const { resolve, asked } = resolverOf({ 'rebind.internal.test': ['127.0.0.1', '127.0.0.2'] });
    const result = await deliverCallback(
      payload(`http://rebind.internal.test:${port}/hook`),
      KEYS,
      Date.now(),
      {
        allow: ['http://rebind.internal.test'],
        resolve,
      },
    );
    expect(result).toEqual({ ok: true, status: 200 });
    expect(asked).toEqual(['rebind.internal.test']);
    expect(rx.deliveries).toHaveLength(1);
  });

  it('still does not follow redirects, and times out a receiver that never answers', async () => {
    const rx = await receiver();
    rx.failWith({ status: 307, headers: { location: `${rx.url}/elsewhere` } });
    const redirected = await deliverCallback(payload(rx.hook), KEYS, Date.now(), {
      allow: ['http://127.0.0.1'],
    });
    expect(redirected).toMatchObject({ ok: false, error: 'receiver answered 307' });
    expect(rx.elsewhere).toEqual([]);

    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanup.push(async () => {
      for (const socket of held) socket.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    });
    const silentPort = (silent.address() as { port: number }).port;
    const result = await deliverCallback(payload(`http://127.0.0.1:${silentPort}/hook`), KEYS, Date.now(), {
      allow: ['http://127.0.0.1'],
      timeoutMs: 300,
    });
    expect(result).toEqual({ ok: false, error: 'no answer within 300 ms', permanent: false });
  });
});

describe('through the server: a refused address is given up at once, audited and logged', () => {
  it('gives up after one attempt (no retries for 24 h) and records callback.given_up', async () => {
    const rx = await receiver();
    const port = new URL(rx.url).port;
    const lines: string[] = [];
    const { resolve } = resolverOf({ 'hooks.example.test': ['127.0.0.1'] });
    const h = await harness({
      env: { COUNTERSIGN_CALLBACK_ALLOW: 'http://' },
      server: { callbackResolver: resolve, log: createLogger('warn', (l) => lines.push(l)) },
    });
    const url = `http://hooks.example.test:${port}/hook`;
    const created = await h.api.create(requestBody({ callback_url: url }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await h.api.cancel(id);
    const read = () =>
      sqlRows<{ type: string; data: string }>(
        h.server,
        `SELECT type, data FROM audit_events WHERE request_id = ? AND type LIKE 'callback.%'`,
        id,
      );
    await waitFor(async () => (await read()).length === 1, 'callback.given_up');
    const given = await read();
    const events = () => given;
    expect(events()[0]?.type).toBe('callback.given_up');
    expect(JSON.parse(events()[0]?.data ?? '{}')).toMatchObject({
      url,
      attempts: 1,
      error: expect.stringContaining('resolves to 127.0.0.1 (loopback)'),
    });
    // The row is closed as given up after its one attempt: nothing is scheduled again.
    const [row] = await sqlRows<{ attempts: number; gaveUpAt: number | null }>(
      h.server,
      `SELECT attempts, gave_up_at AS "gaveUpAt" FROM outbox WHERE request_id = ? AND kind = 'callback'`,
      id,
    );
    expect(row).toMatchObject({ attempts: 1, gaveUpAt: expect.any(Number) });
    expect(rx.deliveries).toEqual([]);
    expect(lines.some((l) => JSON.parse(l).msg === 'callback refused; not retried')).toBe(true);
  });
});
