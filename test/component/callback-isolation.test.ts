import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { AGENT_SECRET, type Harness, requestBody, sqlRows, startHarness } from '../support/harness.js';
import { cardOf, waitFor } from '../support/slack-user.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

/** A receiver that accepts connections, reads, and never answers. */
async function silentReceiver() {
  const sockets: Socket[] = [];
  let closed = 0;
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('data', () => {});
    socket.on('close', () => closed++);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/hook`,
    sockets,
    closed: () => closed,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A port nobody listens on: every connection is refused. */
async function refusedUrl(): Promise<string> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}/hook`;
}

/** Creates a request with this callback and cancels it, so its callback is queued at once. */
async function cancelledWithCallback(h: Harness, url: string, n: number, secret?: string) {
  const api = secret ? h.api.withSecret(secret) : h.api;
  const made = await api.create(requestBody({ callback_url: url, title: `Callback ${n}` }));
  expect(made.status).toBe(201);
  const id = made.body.id as string;
  expect((await api.cancel(id)).status).toBe(200);
  return id;
}

describe('one client’s slow callbacks starve nothing', () => {
  it('posts a card and delivers another client’s callbacks while 40 callbacks hang and a refusing host is paused', async () => {
    // Attempts never time out during this test: whatever happens, happens while they hang.
    const h = await startHarness({ server: { callbackTimeoutMs: 120_000 } });
    cleanup.push(() => h.stop());
    const silent = await silentReceiver();
    // Runs before the server stops: the held connections are dropped, the attempts end.
    cleanup.push(() => silent.stop());
    const healthy = await new CallbackReceiver().start();
    cleanup.push(() => healthy.stop());
    const refused = await refusedUrl();

    for (let i = 0; i < 40; i++) await cancelledWithCallback(h, silent.url, i);
    const refusedIds: string[] = [];
    for (let i = 0; i < 20; i++) refusedIds.push(await cancelledWithCallback(h, refused, 100 + i));
    await waitFor(() => silent.sockets.length > 0, 'callbacks hanging on the silent receiver');

    // A normal card is posted while every one of them still hangs.
    const normal = await h.api.create(requestBody({ title: 'A normal request' }));
    const normalId = normal.body.id as string;
    await waitFor(() => cardOf(h, normalId), 'the normal card', 15_000);
    expect(silent.closed()).toBe(0);

    // Another client's callbacks to a healthy receiver are delivered meanwhile.
    const agentIds: string[] = [];
    for (let i = 0; i < 3; i++)
      agentIds.push(await cancelledWithCallback(h, healthy.hook, 200 + i, AGENT_SECRET));
    await waitFor(
      () => healthy.deliveries.filter((d) => d.answered === 200).length === 3,
      'the healthy receiver’s three callbacks',
      15_000,
    );
    expect(silent.closed()).toBe(0);
    const delivered = healthy.deliveries.map((d) => JSON.parse(d.body).data.id as string).sort();
    expect(delivered).toEqual([...agentIds].sort());

    // The silent receiver holds a few connections (its cap), not a slot per callback.
    expect(silent.sockets.length).toBeGreaterThan(0);
    expect(silent.sockets.length).toBeLessThanOrEqual(4);
    // The refusing host is paused as a whole: most of its rows were never tried.
    const attempts = await sqlRows<{ attempts: number }>(
      h.server,
      `SELECT attempts FROM outbox WHERE kind = 'callback' AND request_id IN (${refusedIds.map(() => '?').join(',')})`,
      ...refusedIds,
    );
    expect(attempts).toHaveLength(20);
    expect(attempts.filter((r) => r.attempts > 0).length).toBeGreaterThan(0);
    expect(attempts.filter((r) => r.attempts > 0).length).toBeLessThanOrEqual(10);
  }, 60_000);
});
