import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import { type DestinationStream, pino } from 'pino';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const CENSOR = '[redacted]';

/**
 * Where a secret could sit in a log entry's fields: these keys are replaced by `[redacted]` at the
 * top level and one or two levels down (`headers.authorization`, `config.slackBotToken`, ...). The
 * list names places, never secret values, so it is safe to print and to review.
 */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'token',
  'secret',
  'password',
  'signature',
  'slackBotToken',
  'slackAppToken',
  'slackSigningSecret',
  'auditSigningKey',
  'metricsToken',
  'key',
  '"webhook-signature"',
  '"x-slack-signature"',
];
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => {
  const ref = k.startsWith('"') ? `[${k}]` : `.${k}`;
  return [k.startsWith('"') ? `[${k}]` : k, `*${ref}`, `*.*${ref}`];
});

/**
 * JSON lines on stderr through pino: `{"level":"info","time":"ISO","pid":..,"msg":"..",...fields}`.
 * An `error` field holding an Error is serialised with its type, message and stack. `write`
 * replaces the destination (tests pass a no-op or a collector).
 */
export function createLogger(level: Level = 'info', write?: (line: string) => void): Logger {
  const destination: DestinationStream = write
    ? { write: (line: string) => write(line) }
    : pino.destination({ dest: 2, sync: true });
  const p = pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { error: pino.stdSerializers.err, err: pino.stdSerializers.err },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
    },
    destination,
  );
  const emit = (lvl: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (fields === undefined) p[lvl](msg);
    else p[lvl](fields, msg);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/**
 * Debug lines of Slack's Socket Mode client that carry a whole envelope or ack: what people typed
 * (a deny reason, `/approvals` text, a modal's values) would reach the logs unredacted. Only the
 * envelope's kind and id are kept.
 */
const RAW_PAYLOAD =
  /^(Received a message on the WebSocket|Unable to parse an incoming WebSocket message|Sending a WebSocket message|Calling ack\(\))(?!\w)/;

function withoutPayload(line: string): string {
  const m = RAW_PAYLOAD.exec(line);
  if (!m) return line;
  const type = /"type"\s*:\s*"([\w.-]{1,64})"/.exec(line)?.[1] ?? /type: ([\w.-]{1,64})/.exec(line)?.[1];
  const envelope = /envelope_id"?\s*[:=]\s*"?([\w-]{1,64})/.exec(line)?.[1];
  const about = [type && `type ${type}`, envelope && `envelope ${envelope}`].filter(Boolean).join(', ');
  return `${m[1]} (${about || 'payload'} not logged: it may hold what people typed)`;
}

/** Bolt's logger interface, forwarding to ours (raw Socket Mode payloads left out). */
export function boltLogger(log: Logger, level: Level): BoltLogger {
  const join = (args: unknown[]) =>
    withoutPayload(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  const boltLevel = {
    debug: LogLevel.DEBUG,
    info: LogLevel.INFO,
    warn: LogLevel.WARN,
    error: LogLevel.ERROR,
  }[level];
  return {
    debug: (...a: unknown[]) => log.debug(`bolt: ${join(a)}`),
    info: (...a: unknown[]) => log.info(`bolt: ${join(a)}`),
    warn: (...a: unknown[]) => log.warn(`bolt: ${join(a)}`),
    error: (...a: unknown[]) => log.error(`bolt: ${join(a)}`),
    setLevel: () => {},
    getLevel: () => boltLevel,
    setName: () => {},
  };
}
