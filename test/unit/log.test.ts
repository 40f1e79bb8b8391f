import { describe, expect, it } from 'vitest';
import { boltLogger, createLogger, REDACT_PATHS } from '../../src/log.js';

function collect(level: 'debug' | 'info' | 'warn' | 'error') {
  const lines: string[] = [];
  const log = createLogger(level, (l) => lines.push(l));
  return { log, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('the logger (pino)', () => {
  it('writes one JSON line per entry with level, ISO time, pid, message and fields', () => {
    const { log, entries } = collect('info');
    log.info('countersign listening', { port: 3000 });
    const [e] = entries();
    expect(e).toMatchObject({ level: 'info', pid: process.pid, msg: 'countersign listening', port: 3000 });
    expect(new Date(e?.time as string).toISOString()).toBe(e?.time);
  });

  it('drops entries below the configured level', () => {
    const { log, entries } = collect('warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(entries().map((e) => e.level)).toEqual(['warn', 'error']);
  });

  it('serialises an Error under `error` with its type, message and stack', () => {
    const { log, entries } = collect('debug');
    log.error('delivery failed', { error: new TypeError('socket hang up') });
    expect(entries()[0]?.error).toMatchObject({ type: 'TypeError', message: 'socket hang up' });
    expect(String((entries()[0]?.error as { stack?: string } | undefined)?.stack)).toContain(
      'TypeError: socket hang up',
    );
  });

  it('redacts secrets by where they sit, at the top and nested', () => {
    const { log, entries } = collect('debug');
    log.warn('request', {
      token: 'xoxb-123-secret',
      headers: { authorization: 'Bearer abc', 'webhook-signature': 'v1,sig', 'content-type': 'json' },
      config: { slackBotToken: 'xoxb-1', slackSigningSecret: 's3cr3t', port: 3000 },
      deep: { inner: { password: 'hunter2' } },
    });
    const text = JSON.stringify(entries()[0]);
    for (const secret of ['xoxb-123-secret', 'Bearer abc', 'v1,sig', 'xoxb-1', 's3cr3t', 'hunter2'])
      expect(text).not.toContain(secret);
    expect(entries()[0]).toMatchObject({ headers: { 'content-type': 'json' }, config: { port: 3000 } });
  });

  it('names places, not values, in its redaction list', () => {
    for (const path of REDACT_PATHS) expect(path).toMatch(/^[*.\w[\]"-]+$/);
  });

  it("keeps Socket Mode envelopes and acks out of Bolt's debug lines, naming only their kind and id", () => {
    const { log, entries } = collect('debug');
    const bolt = boltLogger(log, 'debug');
    const typed = 'password=Hunter2-and-more';
    const envelope = JSON.stringify({
      envelope_id: 'e-123',
      type: 'interactive',
      payload: { type: 'view_submission', view: { state: { values: { reason: { v: { value: typed } } } } } },
    });
    bolt.debug(`Received a message on the WebSocket: ${envelope}`);
    bolt.debug(`Unable to parse an incoming WebSocket message (will ignore): SyntaxError, ${typed}`);
    bolt.debug(`Calling ack() - type: slash_commands, envelope_id: e-456, data: {"text":"${typed}"}`);
    bolt.debug(`Sending a WebSocket message: {"envelope_id":"e-789","payload":{"text":"${typed}"}}`);
    bolt.debug('WebSocket open event received (connection established)!');
    const msgs = entries().map((e) => e.msg as string);
    expect(msgs.join('\n')).not.toContain('Hunter2');
    expect(msgs).toEqual([
      'bolt: Received a message on the WebSocket (type interactive, envelope e-123 not logged: it may hold what people typed)',
      'bolt: Unable to parse an incoming WebSocket message (payload not logged: it may hold what people typed)',
      'bolt: Calling ack() (type slash_commands, envelope e-456 not logged: it may hold what people typed)',
      'bolt: Sending a WebSocket message (envelope e-789 not logged: it may hold what people typed)',
      'bolt: WebSocket open event received (connection established)!',
    ]);
  });
});
