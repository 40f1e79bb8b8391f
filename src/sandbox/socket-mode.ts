import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { SlackEmulator } from './slack-emulator.js';

/** The kinds of envelope Slack sends over Socket Mode. */
export type EnvelopeType = 'events_api' | 'interactive' | 'slash_commands';

/** What the app answered to an envelope: `{envelope_id, payload}`; payload `{}` for a bare ack. */
export interface Ack {
  envelopeId: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  /** Milliseconds from sending the envelope to its ack. */
  ms: number;
}

export interface SocketModeOptions {
  /** Slack allows 3 s for an ack; after that an interaction fails and an event is retried. */
  ackTimeoutMs?: number;
  /** How long `send` waits for a connected app before giving up. */
  connectTimeoutMs?: number;
  /** Server pings, as Slack sends them (the client watches for them). */
  pingIntervalMs?: number;
}

interface Waiting {
  type: EnvelopeType;
  sentAt: number;
  resolve: (ack: Ack) => void;
}

const registry = new WeakMap<SlackEmulator, SocketModeEmulator>();

/**
 * Slack's Socket Mode on 127.0.0.1, attached to a SlackEmulator: `apps.connections.open` (app-level
 * token) answers a single-use `ws://` URL; a connection gets `hello`; `send` delivers an envelope
 * (events_api, interactive, slash_commands) and resolves with the app's ack and its payload, or
 * fails when no ack comes within 3 s (events are retried like Slack does, with `retry_attempt`).
 * `disconnect()` sends Slack's `disconnect` message, `drop()` cuts connections without a close
 * frame (a network loss).
 */
export class SocketModeEmulator {
  readonly acks: Ack[] = [];
  /** Every `ws://` URL handed out by apps.connections.open. */
  readonly urlsIssued: string[] = [];
  /** Connections that received `hello`, counted since start. */
  hellos = 0;
  /** When true, apps.connections.open fails with `internal_error` (Slack having trouble). */
  refuseConnections = false;
  private readonly tickets = new Set<string>();
  private readonly sockets = new Set<WebSocket>();
  /** Connections told to disconnect: no new envelopes go to them. */
  private readonly draining = new WeakSet<WebSocket>();
  private readonly waiting = new Map<string, Waiting>();
  private readonly onReady = new Set<() => void>();
  private wss: WebSocketServer | null = null;
  private pinger: NodeJS.Timeout | null = null;
  private readonly opts: Required<SocketModeOptions>;

  private constructor(
    private readonly slack: SlackEmulator,
    opts: SocketModeOptions,
  ) {
    this.opts = { ackTimeoutMs: 3000, connectTimeoutMs: 15_000, pingIntervalMs: 10_000, ...opts };
  }

  /** The Socket Mode side of `slack`, started on first use (one per emulator). */
  static async attach(slack: SlackEmulator, opts: SocketModeOptions = {}): Promise<SocketModeEmulator> {
    let sm = registry.get(slack);
    if (!sm) {
      sm = new SocketModeEmulator(slack, opts);
      registry.set(slack, sm);
      await sm.start();
      const started = sm;
      slack.onStop(() => started.stop());
    }
    return sm;
  }

  private async start(): Promise<void> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    this.wss = wss;
    const port = (wss.address() as AddressInfo).port;
    wss.on('connection', (ws, req) => {
      const ticket = new URL(req.url ?? '/', 'ws://x').searchParams.get('ticket') ?? '';
      if (!this.tickets.delete(ticket)) {
        ws.close(4001, 'invalid or used ticket');
        return;
      }
      this.sockets.add(ws);
      ws.on('message', (data) => this.onMessage(String(data)));
      ws.on('close', () => this.sockets.delete(ws));
      ws.on('error', () => this.sockets.delete(ws));
      ws.send(
        JSON.stringify({
          type: 'hello',
          num_connections: this.sockets.size,
          debug_info: { host: 'emulator', approximate_connection_time: 18060 },
          connection_info: { app_id: 'A0FAKE' },
        }),
      );
      this.hellos += 1;
      for (const ready of [...this.onReady]) ready();
    });
    this.pinger = setInterval(() => {
      for (const ws of this.sockets) ws.ping();
    }, this.opts.pingIntervalMs);
    this.pinger.unref();
    this.slack.register('apps.connections.open', (_args, call) => {
      if (!call.token?.startsWith('xapp-')) return { ok: false, error: 'not_allowed_token_type' };
      if (this.refuseConnections) return { ok: false, error: 'internal_error' };
      const ticket = randomBytes(12).toString('hex');
      this.tickets.add(ticket);
      const url = `ws://127.0.0.1:${port}/link/?ticket=${ticket}`;
      this.urlsIssued.push(url);
      return { ok: true, url };
    });
  }

  /** Open connections that have been greeted. */
  get connections(): number {
    return this.sockets.size;
  }

  /** Resolves once at least one app connection is open (greeted with `hello`). */
  async connected(timeoutMs = this.opts.connectTimeoutMs): Promise<void> {
    if (this.openSockets().length > 0) return;
    await new Promise<void>((resolve, reject) => {
      const ready = () => {
        clearTimeout(timer);
        this.onReady.delete(ready);
        resolve();
      };
      const timer = setTimeout(() => {
        this.onReady.delete(ready);
        reject(new Error(`no Socket Mode connection within ${timeoutMs} ms`));
      }, timeoutMs);
      this.onReady.add(ready);
    });
  }

  /**
   * Delivers one envelope to a connected app and resolves with its ack. An interaction or slash
   * command that is not acked within 3 s fails (Slack shows the user an error); an event is sent
   * again, up to 3 retries, as Slack does.
   */
  async send(type: EnvelopeType, payload: Record<string, unknown>): Promise<Ack> {
    const retries = type === 'events_api' ? 3 : 0;
    for (let attempt = 0; ; attempt++) {
      await this.connected();
      const ack = await this.sendOnce(type, payload, attempt);
      if (ack) return ack;
      if (attempt >= retries) {
        throw new Error(
          `the app did not acknowledge the ${type} envelope within ${this.opts.ackTimeoutMs} ms` +
            (retries > 0 ? ` (${retries + 1} attempts)` : ''),
        );
      }
    }
  }

  private sendOnce(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    attempt: number,
  ): Promise<Ack | null> {
    const sockets = this.openSockets();
    const ws = sockets[Math.floor(Math.random() * sockets.length)];
    if (!ws) return Promise.resolve(null);
    const envelopeId = randomBytes(16).toString('hex');
    return new Promise((resolve) => {
      const settle = (ack: Ack | null) => {
        clearTimeout(timer);
        ws.off('close', onClose);
        this.waiting.delete(envelopeId);
        resolve(ack);
      };
      const onClose = () => settle(null);
      const timer = setTimeout(() => settle(null), this.opts.ackTimeoutMs);
      ws.once('close', onClose);
      this.waiting.set(envelopeId, { type, sentAt: Date.now(), resolve: settle });
      ws.send(
        JSON.stringify({
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: type !== 'events_api',
          ...(type === 'events_api'
            ? { retry_attempt: attempt, retry_reason: attempt > 0 ? 'timeout' : '' }
            : {}),
        }),
      );
    });
  }

  /** Slack's `disconnect` message (`refresh_requested`: reconnect now; `warning`: soon). */
  disconnect(reason: 'refresh_requested' | 'warning' | 'link_disabled' = 'refresh_requested'): void {
    for (const ws of this.openSockets()) {
      this.draining.add(ws);
      ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'emulator' } }));
    }
  }

  /** Cuts every connection without a close frame, as a network loss does. */
  drop(): void {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    if (this.pinger) clearInterval(this.pinger);
    this.drop();
    registry.delete(this.slack);
    const wss = this.wss;
    this.wss = null;
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  private openSockets(): WebSocket[] {
    return [...this.sockets].filter((ws) => ws.readyState === ws.OPEN && !this.draining.has(ws));
  }

  private onMessage(text: string): void {
    let msg: { envelope_id?: unknown; payload?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    const id = typeof msg.envelope_id === 'string' ? msg.envelope_id : '';
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    const payload =
      msg.payload && typeof msg.payload === 'object' ? (msg.payload as Record<string, unknown>) : {};
    const ack: Ack = { envelopeId: id, type: waiting.type, payload, ms: Date.now() - waiting.sentAt };
    this.acks.push(ack);
    waiting.resolve(ack);
  }
}
