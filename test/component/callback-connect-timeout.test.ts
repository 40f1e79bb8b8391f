import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { Resolver } from '../../src/egress/pinned-post.js';
import { createLogger } from '../../src/log.js';
import { deliverCallback } from '../../src/outbox/callback-delivery.js';
import { requestBody, startHarness } from '../support/harness.js';
import { waitFor } from '../support/slack-user.js';

/**
 * A callback gives up on a receiver whose address never completes a TCP connect after the connect
 * timeout (3 s by default), not after the whole attempt's (10 s by default); a receiver that does
 * connect keeps the whole attempt's time to answer.
 */

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const KEYS = [{ name: 'ci', key: Buffer.from('ci-secret-key-0123456789abcdef') }];
const payload = (url: string) => ({ url, webhookId: 'msg_connect', body: '{"type":"request.cancelled"}' });

/**
 * A port on 127.0.0.1 where a connect never completes. It listens with a backlog of 1 in a worker
 * thread whose event loop is then blocked, so nothing is ever accepted: the kernel completes the
 * handshakes it can queue, and once that queue is full it drops every further SYN (Linux), so a new
 * connect hangs in SYN-SENT. The queue is filled here, until a connect is seen to hang.
 */
async function unconnectablePort(): Promise<number> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const server = require('node:net').createServer();
     server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(new Int32Array(workerData), 0, 0);
       server.close();
     });`,
    { eval: true, workerData: gate.buffer },
  );
  const sockets: Socket[] = [];
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await worker.terminate();
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  for (let i = 0; i < 10; i++) {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => {});
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 500);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) return port;
  }
  throw new Error(`connects to 127.0.0.1:${port} never hang: the accept queue did not fill up`);
}

/** An HTTP receiver on 127.0.0.1 that answers 200 after `delayMs` (never, when null). */
async function slowReceiver(delayMs: number | null): Promise<string> {
  const server: Server = createHttpServer((req, res) => {
    req.resume();
    if (delayMs === null) return;
    const timer = setTimeout(() => res.writeHead(200).end('ok'), delayMs);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
}

describe('callback delivery: the connect timeout', () => {
  it('gives up on an address that never completes a connect after the connect timeout, not the whole one', async () => {
    const port = await unconnectablePort();
    const started = Date.now();
    const result = await deliverCallback(payload(`http://127.0.0.1:${port}/hook`), KEYS, Date.now(), {
      allow: ['http://127.0.0.1'],
      connectTimeoutMs: 200,
      timeoutMs: 10_000,
    });
    const took = Date.now() - started;
    expect(result).toEqual({ ok: false, error: 'could not connect within 200 ms', permanent: false });
    expect(took).toBeLessThan(5_000);
  });

  it('counts resolving the host in the connect timeout', async () => {
    const hanging: Resolver = () => new Promise(() => {});
    const started = Date.now();
    const result = await deliverCallback(payload('http://hooks.internal.test/hook'), KEYS, Date.now(), {
      allow: ['http://hooks.internal.test'],
      connectTimeoutMs: 200,
      timeoutMs: 10_000,
      resolve: hanging,
    });
    expect(result).toEqual({
      ok: false,
      error: 'hooks.internal.test did not resolve within 200 ms',
      permanent: false,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('leaves a receiver that connects but answers slowly the whole attempt’s time', async () => {
    // Answers after five times the connect timeout: still delivered.
    const slow = await slowReceiver(1_000);
    const started = Date.now();
    const result = await deliverCallback(payload(slow), KEYS, Date.now(), {
      allow: ['http://127.0.0.1'],
      connectTimeoutMs: 200,
      timeoutMs: 10_000,
    });
    expect(result).toEqual({ ok: true, status: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    // One that never answers is cut by the whole attempt's timeout, and says so.
    const silent = await slowReceiver(null);
    const result2 = await deliverCallback(payload(silent), KEYS, Date.now(), {
      allow: ['http://127.0.0.1'],
      connectTimeoutMs: 200,
      timeoutMs: 1_000,
    });
    expect(result2).toEqual({ ok: false, error: 'no answer within 1000 ms', permanent: false });
  });
});

describe('through the server: the outbox worker uses a 3 s connect timeout by default', () => {
  it('retries a callback whose receiver never completes a connect after 3 s, well before the whole timeout', async () => {
    const lines: string[] = [];
    const h = await startHarness({
      server: { callbackTimeoutMs: 120_000, log: createLogger('warn', (l) => lines.push(l)) },
    });
    cleanup.push(() => h.stop());
    const port = await unconnectablePort();
    const made = await h.api.create(requestBody({ callback_url: `http://127.0.0.1:${port}/hook` }));
    expect(made.status).toBe(201);
    const started = Date.now();
    expect((await h.api.cancel(made.body.id as string)).status).toBe(200);
    const failed = await waitFor(
      () =>
        lines
          .map((l) => JSON.parse(l) as { msg: string; requestId?: string; error?: string })
          .find((l) => l.msg === 'callback failed; will retry' && l.requestId === made.body.id),
      'the failed attempt',
      20_000,
    );
    expect(failed.error).toBe('could not connect within 3000 ms');
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
