import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function serialise(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] =
      v instanceof Error ? { message: v.message, name: v.name, stack: v.stack?.split('\n').slice(0, 5) } : v;
  }
  return out;
}

/** One JSON line per entry on stderr, so logs are greppable and machine-readable. */
export function createLogger(
  level: Level = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const emit = (lvl: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[lvl] < ORDER[level]) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...serialise(fields) })}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** Bolt's logger interface, forwarding to ours. */
export function boltLogger(log: Logger, level: Level): BoltLogger {
  const join = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
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
