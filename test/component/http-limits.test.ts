import { Agent, request as httpRequest, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { bodyBytesInFlight } from '../../src/http/listener.js';
import { createLogger } from '../../src/log.js';
import { type Harness, requestBody, startHarness } from '../support/harness.js';
import { connectionCount, postHead, rawExchange } from '../support/raw-http.js';
import { waitFor } from '../support/slack-user.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const MiB = 1024 * 1024;
const now = () => Math.floor(Date.now() / 1000);
/** Headers of a Slack request that pass every check made before the body (format and freshness). */
const slackHeaders = () => ({
  'content-type': 'application/x-www-form-urlencoded',
  'x-slack-request-timestamp': now(),
  'x-slack-signature': `v0=${'ab'.repeat(32)}`,
});
const apiHeaders = () => ({
  'content-type': 'application/json',
  'webhook-id': 'msg_stalled',
  'webhook-timestamp': now(),
  'webhook-signature': 'v1,AAAA',
});

/** Requests refused on their head alone: the body is never sent. */
const refusedOnHead = (): {
  what: string;
  target: string;
  headers: Record<string, string | number>;
  status: number;
}[] => [
  {
    what: 'an API body declared over 1 MiB',
    target: '/api/v1/requests',
    headers: { ...apiHeaders(), 'content-length': 4 * MiB },
    status: 413,
  },
  {
    what: 'a cancel body declared over its 64 KiB',
    target: '/api/v1/requests/req_x/cancel',
    headers: { ...apiHeaders(), 'content-length': MiB },
    status: 413,
  },
  {
    what: 'an API call without signature headers',
    target: '/api/v1/requests',
    headers: { 'content-type': 'application/json', 'content-length': 1000 },
    status: 401,
  },
  {
    what: 'an API call with a stale timestamp',
    target: '/api/v1/requests',
    headers: { ...apiHeaders(), 'webhook-timestamp': now() - 400, 'content-length': 1000 },
    status: 401,
  },
  {
    what: 'an API body of another content type',
    target: '/api/v1/requests',
    headers: { ...apiHeaders(), 'content-type': 'text/plain', 'content-length': 1000 },
    status: 415,
  },
  {
    what: 'a Slack body declared over 256 KiB',
    target: '/slack/events',
    headers: { ...slackHeaders(), 'content-length': 4 * MiB },
    status: 413,
  },
  {
    what: 'a Slack request without a signature',
    target: '/slack/events',
    headers: { 'content-type': 'application/json', 'content-length': 100_000 },
    status: 401,
  },
  {
    what: 'a Slack request with a stale timestamp',
    target: '/slack/events',
    headers: { ...slackHeaders(), 'x-slack-request-timestamp': now() - 400, 'content-length': 100_000 },
    status: 401,
  },
  {
    what: 'a Slack request timestamped in the future',
    target: '/slack/events',
    headers: { ...slackHeaders(), 'x-slack-request-timestamp': now() + 400, 'content-length': 100_000 },
    status: 401,
  },
  {
    what: 'a body sent to an unknown path',
    target: '/nowhere',
    headers: { 'content-length': 4 * MiB },
    status: 404,
  },
  {
    what: 'a body sent to a call that takes none',
    target: '/healthz',
    headers: { 'content-length': 10 },
    status: 405,
  },
];

describe('refusing early: nothing is buffered before a request can be refused', () => {
  it('answers each request refused on its head before a byte of the body is sent, and closes it', async () => {
    h = await startHarness();
    const port = h.server.port;
    for (const r of refusedOnHead()) {
      const x = rawExchange(port, postHead(r.target, r.headers));
      const head = await x.head;
      expect({ what: r.what, status: head.status, connection: head.headers.connection }).toEqual({
        what: r.what,
        status: r.status,
        connection: 'close',
      });
      // The server closes its side without waiting for the body it declined.
      await x.ended;
      x.close();
    }
  });

  it('refuses 200 stalled oversized POSTs at once, keeps the connections capped, and releases them all', async () => {
    const maxConnections = 40;
    h = await startHarness({ server: { httpLimits: { maxConnections, lingerMs: 300 } } });
    const server = h.server.server;
    let most = 0;
    let dropped = 0;
    server.on('connection', () => {
      connectionCount(server).then((n) => {
        most = Math.max(most, n);
      });
    });
    server.on('drop', () => dropped++);
    const targets = ['/slack/events', '/api/v1/requests', '/nowhere'];
    const exchanges = Array.from({ length: 200 }, (_, i) =>
      rawExchange(
        h?.server.port ?? 0,
        postHead(targets[i % 3] as string, { ...slackHeaders(), ...apiHeaders(), 'content-length': 4 * MiB }),
        // These clients never close: the server must, after its answer and a short linger.
        { keepOpen: true },
      ),
    );
    // Every one is answered on its head (or, past the cap, closed unanswered), and none sent a body.
    await Promise.all(exchanges.map((x) => x.ended));
    const outcomes = exchanges.map((x) => x.received());
    for (const data of outcomes) {
      if (data === '') continue;
      expect(data).toMatch(/^HTTP\/1\.1 (413|404) /);
    }
    expect(outcomes.filter((data) => data === '').length).toBe(dropped);
    expect(dropped).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(maxConnections);
    // The server lets go of each one after its short linger, though these clients never close.
    await waitFor(async () => (await connectionCount(server)) === 0, 'every connection to be released');
    for (const x of exchanges) x.close();
    expect((await h.api.create(requestBody())).status).toBe(201);
  });

  it('closes connection N+1 at once when N are open, and serves again once one closes', async () => {
    h = await startHarness({ server: { httpLimits: { maxConnections: 3 } } });
    const server = h.server.server;
    let dropped = 0;
    server.on('drop', () => dropped++);
    const held = [0, 1, 2].map(() => rawExchange(h?.server.port ?? 0, ''));
    await waitFor(async () => (await connectionCount(server)) === 3, 'three open connections');
    const extra = rawExchange(h.server.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await extra.closed).toEqual({ data: '' });
    expect(dropped).toBe(1);
    held[0]?.close();
    await waitFor(async () => (await connectionCount(server)) === 2, 'a slot to free up');
    const res = await fetch(`${h.server.url}/healthz`, { headers: { connection: 'close' } });
    expect(res.status).toBe(200);
    for (const x of held) x.close();
  });

  it('answers 503 with Retry-After, before reading, when the bodies being received pass the budget', async () => {
    h = await startHarness({ server: { httpLimits: { bodyBudgetBytes: 10_000 } } });
    const port = h.server.port;
    const first = rawExchange(
      port,
      postHead('/api/v1/requests', { ...apiHeaders(), 'content-length': 9000 }),
    );
    first.write('x'.repeat(10));
    await waitFor(
      () => bodyBytesInFlight(h?.server.server as Server) === 9000,
      'the first body to be reserved',
    );
    const second = rawExchange(
      port,
      postHead('/api/v1/requests', { ...apiHeaders(), 'content-length': 9000 }),
    );
    const head = await second.head;
    expect(head.status).toBe(503);
    expect(head.headers['retry-after']).toBe('1');
    expect(head.headers.connection).toBe('close');
    // The first body arrives whole: it is verified (and refused: its signature is made up), and
    // its share of the budget comes back.
    first.write('x'.repeat(8990));
    expect((await first.head).status).toBe(401);
    first.close();
    second.close();
    expect((await h.api.create(requestBody())).status).toBe(201);
  });
});

describe('timeouts', () => {
  it('cuts a request whose body stalls after the request timeout (408), and one whose headers stall', async () => {
    const lines: string[] = [];
    h = await startHarness({
      server: {
        httpLimits: { requestTimeoutMs: 400, headersTimeoutMs: 400, timeoutCheckMs: 50 },
        log: createLogger('warn', (l) => lines.push(l)),
      },
    });
    const body = rawExchange(
      h.server.port,
      postHead('/api/v1/requests', { ...apiHeaders(), 'content-length': 100 }),
    );
    body.write('{"action":');
    const cut = await body.closed;
    expect(cut.data).toMatch(/^HTTP\/1\.1 408 /);

    const headers = rawExchange(h.server.port, 'POST /api/v1/requests HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    expect((await headers.closed).data).toMatch(/^HTTP\/1\.1 408 /);
    // A cut request is not an error of the server.
    expect(lines.filter((l) => JSON.parse(l).level === 'error')).toEqual([]);
    // A long poll is not a slow request: its request arrived whole, only the answer waits.
    const id = (await h.api.create(requestBody())).body.id as string;
    const polled = h.api.request(id, 1);
    expect((await polled).status).toBe(200);
  });
});

describe('a refused body does not break the keep-alive connection it came on', () => {
  function send(agent: Agent, port: number, method: string, path: string, body?: Buffer, chunked = false) {
    return new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent,
          // Signature headers that pass the checks made before the body: the body is what is refused.
          headers: {
            ...(body ? apiHeaders() : {}),
            ...(body && !chunked ? { 'content-length': body.length } : {}),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
        },
      );
      req.on('error', reject);
      if (body && chunked) {
        for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
      }
      req.end(body && !chunked ? body : undefined);
    });
  }

  it('answers 413 with Connection: close, then the next request on the same agent succeeds', async () => {
    h = await startHarness();
    const port = h.server.port;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = Buffer.alloc(2 * MiB, 'x');
      for (const [method, path, chunked, status] of [
        ['POST', '/api/v1/requests', false, 413],
        ['POST', '/api/v1/requests', true, 413],
        ['POST', '/slack/events', false, 413],
        ['POST', '/nowhere', false, 404],
      ] as const) {
        const refused = await send(agent, port, method, path, big, chunked);
        // The next request on the same agent is answered (before the fix: ECONNRESET).
        const next = await send(agent, port, 'GET', '/healthz');
        expect(next.status).toBe(200);
        expect({ path, chunked, ...refused }).toEqual({ path, chunked, status, connection: 'close' });
      }
    } finally {
      agent.destroy();
    }
  });
});
