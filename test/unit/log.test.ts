import { describe, expect, it } from 'vitest';
import { createLogger, REDACT_PATHS } from '../../src/log.js';

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
});
