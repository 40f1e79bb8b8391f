import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SlackEmulator } from '../../src/sandbox/slack-emulator.js';
import { SocketModeEmulator } from '../../src/sandbox/socket-mode.js';
import {
  APP_TOKEN,
  type Harness,
  PEOPLE,
  requestBody,
  seedWorkspace,
  startHarness,
} from '../support/harness.js';
import { cardOf, click, openHome, slashCommand, submitDeny, waitFor } from '../support/slack-user.js';

async function openConnection(slack: SlackEmulator, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${slack.url}apps.connections.open`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
  });
  return (await res.json()) as Record<string, unknown>;
}

/** A bare WebSocket client: collects every message Slack sends it. */
async function rawClient(url: string) {
  const ws = new WebSocket(url);
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  return { ws, messages, closed };
}

describe('the Socket Mode emulation', () => {
  let slack: SlackEmulator;
  let sm: SocketModeEmulator;
  const sockets: WebSocket[] = [];
  beforeAll(async () => {
    slack = await new SlackEmulator().start();
    sm = await SocketModeEmulator.attach(slack, { ackTimeoutMs: 300 });
  });
  afterEach(() => {
    for (const ws of sockets.splice(0)) ws.terminate();
  });
  afterAll(() => slack.stop());

  it('answers apps.connections.open only to an app-level token, with a single-use ws:// URL on 127.0.0.1', async () => {
    expect(await openConnection(slack, 'xoxb-bot-token')).toEqual({
      ok: false,
      error: 'not_allowed_token_type',
    });
    slack.invalidTokens.add('xapp-revoked');
    expect(await openConnection(slack, 'xapp-revoked')).toEqual({ ok: false, error: 'invalid_auth' });
    const { ok, url } = await openConnection(slack, APP_TOKEN);
    expect(ok).toBe(true);
    expect(String(url)).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=[0-9a-f]+$/);

    const first = await rawClient(String(url));
    sockets.push(first.ws);
    await waitFor(() => first.messages[0], 'hello');
    expect(first.messages[0]).toMatchObject({ type: 'hello', connection_info: { app_id: 'A0FAKE' } });
    const again = await rawClient(String(url));
    sockets.push(again.ws);
    expect(await again.closed).toBe(4001);
  });

  it('delivers envelopes, resolves with the ack payload, and fails an interaction nobody acks within the limit', async () => {
    const client = await rawClient(String((await openConnection(slack, APP_TOKEN)).url));
    sockets.push(client.ws);
    await sm.connected();
    client.ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as {
        envelope_id?: string;
        type: string;
        payload?: { text?: string };
      };
      // This client acks slash commands with a payload and ignores interactions.
      if (m.type === 'slash_commands') {
        client.ws.send(
          JSON.stringify({ envelope_id: m.envelope_id, payload: { text: `got ${m.payload?.text}` } }),
        );
      }
    });
    const ack = await sm.send('slash_commands', { command: '/approvals', text: 'help' });
    expect(ack).toMatchObject({ type: 'slash_commands', payload: { text: 'got help' } });
    const sent = client.messages.find((m) => m.type === 'slash_commands');
    expect(sent).toMatchObject({ envelope_id: ack.envelopeId, accepts_response_payload: true });
    await expect(sm.send('interactive', { type: 'block_actions' })).rejects.toThrow(
      /did not acknowledge the interactive envelope within 300 ms/,
    );
  });

  it('sends an unacknowledged event again with retry_attempt, as Slack does', async () => {
    const client = await rawClient(String((await openConnection(slack, APP_TOKEN)).url));
    sockets.push(client.ws);
    await sm.connected();
    await expect(
      sm.send('events_api', { type: 'event_callback', event: { type: 'app_home_opened' } }),
    ).rejects.toThrow(/4 attempts/);
    const events = client.messages.filter((m) => m.type === 'events_api');
    expect(events.map((e) => e.retry_attempt)).toEqual([0, 1, 2, 3]);
    expect(events.map((e) => e.retry_reason)).toEqual(['', 'timeout', 'timeout', 'timeout']);
  });

  it('tells connections to go with a disconnect message, and drops them like a network loss', async () => {
    const a = await rawClient(String((await openConnection(slack, APP_TOKEN)).url));
    sockets.push(a.ws);
    await waitFor(() => a.messages[0], 'hello');
    sm.disconnect('refresh_requested');
    await waitFor(() => a.messages.find((m) => m.type === 'disconnect'), 'the disconnect message');
    expect(a.messages.at(-1)).toMatchObject({ type: 'disconnect', reason: 'refresh_requested' });
    const b = await rawClient(String((await openConnection(slack, APP_TOKEN)).url));
    sockets.push(b.ws);
    await waitFor(() => b.messages[0], 'hello');
    sm.drop();
    expect(await b.closed).toBe(1006);
  });
});

describe('the server over Socket Mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ slackMode: 'socket' });
  });
  afterAll(() => h.stop());

  const create = async () => {
    const res = await h.api.create(requestBody());
    const id = res.body.id as string;
    await waitFor(() => cardOf(h, id), 'the card');
    return id;
  };

  it('connects at start with the app-level token and needs no signing secret nor /slack/events', async () => {
    expect(h.env.SLACK_SIGNING_SECRET).toBeUndefined();
    expect(h.socket?.hellos).toBe(1);
    const open = h.slack.callsOf('apps.connections.open');
    expect(open.map((c) => c.token)).toEqual([APP_TOKEN]);
    const res = await fetch(`${h.server.url}/slack/events`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);
  });

  it('takes votes, the deny modal (with its errors), slash commands and the Home tab as envelopes', async () => {
    const id = await create();
    expect((await click(h, PEOPLE.bob.id, id, 'approve')).status).toBe(200);
    await waitFor(
      async () => (await h.server.approvals.requests.get(id))?.status === 'approved',
      'the approval',
    );

    const other = await create();
    const empty = await submitDeny(h, PEOPLE.carol.id, other, '   ');
    expect(JSON.parse(empty.body)).toMatchObject({
      response_action: 'errors',
      errors: { reason: expect.any(String) },
    });
    await submitDeny(h, PEOPLE.carol.id, other, 'not during the freeze');
    await waitFor(
      async () => (await h.server.approvals.requests.get(other))?.status === 'denied',
      'the denial',
    );

    const reply = await slashCommand(h, PEOPLE.bob.id, 'help');
    expect(reply.text).toContain('/approvals');
    expect((await openHome(h, PEOPLE.bob.id)).type).toBe('home');
    // Each of these resolved only because the app acked within Slack's 3 s (the emulator's limit).
    expect(new Set(h.socket?.acks.map((a) => a.type))).toEqual(
      new Set(['interactive', 'slash_commands', 'events_api']),
    );
  });

  it("reconnects after Slack's disconnect message and keeps taking votes", async () => {
    const before = h.socket?.hellos ?? 0;
    h.socket?.disconnect('refresh_requested');
    await waitFor(() => (h.socket?.hellos ?? 0) > before && h.socket?.connections === 1, 'a new connection');
    const id = await create();
    await click(h, PEOPLE.bob.id, id, 'approve');
    await waitFor(
      async () => (await h.server.approvals.requests.get(id))?.status === 'approved',
      'the approval',
    );
  });

  it('reconnects after a network loss, retrying while apps.connections.open fails', async () => {
    const socket = h.socket as SocketModeEmulator;
    const before = socket.hellos;
    const opened = h.slack.callsOf('apps.connections.open').length;
    socket.refuseConnections = true;
    socket.drop();
    await waitFor(
      () => h.slack.callsOf('apps.connections.open').length >= opened + 2,
      'two refused attempts',
      15_000,
    );
    expect(socket.hellos).toBe(before);
    socket.refuseConnections = false;
    await waitFor(() => socket.hellos > before, 'a new connection', 15_000);
    const id = await create();
    await click(h, PEOPLE.dave.id, id, 'approve');
    await waitFor(
      async () => (await h.server.approvals.requests.get(id))?.status === 'approved',
      'the approval',
    );
  });
});

describe('a refused app-level token', () => {
  it('stops the start with the fix', async () => {
    const slack = await new SlackEmulator().start();
    seedWorkspace(slack);
    slack.invalidTokens.add(APP_TOKEN);
    try {
      await expect(startHarness({ slack, slackMode: 'socket' })).rejects.toThrow(
        /SLACK_APP_TOKEN was refused by Slack \(invalid_auth\): create an app-level token with the connections:write scope/,
      );
    } finally {
      await slack.stop();
    }
  });
});

describe('two connections', () => {
  it('gives each envelope to one connection only', async () => {
    const slack = await new SlackEmulator().start();
    const sm = await SocketModeEmulator.attach(slack);
    const clients = await Promise.all(
      [1, 2].map(async () => rawClient(String((await openConnection(slack, APP_TOKEN)).url))),
    );
    try {
      await Promise.all(clients.map((c) => once(c.ws, 'open')));
      await waitFor(() => sm.connections === 2, 'two connections');
      for (const c of clients) {
        c.ws.on('message', (data) => {
          const m = JSON.parse(String(data)) as { envelope_id?: string };
          if (m.envelope_id) c.ws.send(JSON.stringify({ envelope_id: m.envelope_id }));
        });
      }
      for (let i = 0; i < 6; i++) await sm.send('interactive', { type: 'block_actions', n: i });
      const received = clients.flatMap((c) => c.messages.filter((m) => m.type === 'interactive'));
      expect(received.map((m) => (m.payload as { n: number }).n).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      for (const c of clients) c.ws.terminate();
      await slack.stop();
    }
  });
});
