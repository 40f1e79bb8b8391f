import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  CSV_HEADER,
  type ExportRow,
  exportRows,
  parseSince,
  type Since,
  toCsvLine,
  toJsonLine,
} from '../audit/export.js';
import { keyIdOf } from '../audit/keys.js';
import { AuditDatabaseError } from '../audit/open-readonly.js';
import {
  type OutsideCheckpoint,
  parseOutsideCheckpoint,
  verifyAudit,
  verifyResultText,
} from '../audit/verify.js';
import type { AuditReader } from '../store/audit-reader.js';
import { openAuditReaderAt } from '../store/open-store.js';

/** The key id of the Ed25519 key in the PEM file at `path` (a public key, or a private one). */
function trustedKeyId(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--trusted-key: cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519')
      throw new UsageError(`--trusted-key: ${path} holds a ${key.asymmetricKeyType} key, not Ed25519`);
    return keyIdOf(key);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `--trusted-key: ${path} holds no PEM key (give the output of "countersign audit pubkey", or the key file)`,
    );
  }
}

export const AUDIT_HELP = `Usage: countersign audit <command> [options]

Commands:
  verify [--checkpoint <seq>:<hash>] [--trusted-key <file>]...
        recompute the hash chain from the first event and check every signature and
        checkpoint; exits 0 with a summary when everything holds, 1 naming the first bad
        event. --checkpoint checks against a copy kept outside the database (e.g. a
        checkpoint posted to the audit Slack channel). --trusted-key names a PEM file
        holding a signing key (public or private; repeat it for rotated keys): only
        signatures by those keys count, so a key someone registered by writing to the
        database cannot vouch for events it signed (see: countersign audit pubkey).
  export [--since <ISO time | seq>] [--format jsonl|csv]
        write the events to stdout, oldest first (JSON Lines by default; CSV with a
        header). --since 2025-01-31T00:00:00Z: events at or after that time;
        --since 1234: events after seq 1234.
  pubkey
        print every public key that has signed the log, with its key id (PEM).

Options:
  --database <path>   the SQLite file; default DATABASE_PATH from the environment or
                      .env, else ./data/countersign.db. Opened read-only.
  --database-url <postgres://...>
                      read from PostgreSQL instead; default DATABASE_URL when it is set.

Exit codes: 0 fine, 1 verification failed, 4 bad usage or unreadable database.
See docs/audit.md.
`;

export interface AuditIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

class UsageError extends Error {}

const defaultIo = (): AuditIo => ({ out: process.stdout, err: process.stderr, env: process.env });

/** `countersign audit ...`; returns the exit code. */
export async function auditCommand(argv: string[], io: AuditIo = defaultIo()): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) {
    io.err.write(AUDIT_HELP);
    return 4;
  }
  if (sub === 'help' || sub === '--help' || sub === '-h') {
    io.out.write(AUDIT_HELP);
    return 0;
  }
  try {
    const { values } = parseArgs({
      args: rest,
      options: {
        database: { type: 'string' },
        'database-url': { type: 'string' },
        checkpoint: { type: 'string' },
        'trusted-key': { type: 'string', multiple: true },
        since: { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.out.write(AUDIT_HELP);
      return 0;
    }
    const allowed: Record<string, string[]> = {
      verify: ['database', 'database-url', 'checkpoint', 'trusted-key'],
      export: ['database', 'database-url', 'since', 'format'],
      pubkey: ['database', 'database-url'],
    };
    const known = allowed[sub];
    if (!known) throw new UsageError(`unknown audit command "${sub}"`);
    const stray = Object.keys(values).filter((k) => !known.includes(k));
    if (stray.length > 0) throw new UsageError(`audit ${sub} does not take --${stray.join(', --')}`);

    let outside: OutsideCheckpoint | undefined;
    if (values.checkpoint !== undefined) {
      const parsed = parseOutsideCheckpoint(values.checkpoint);
      if (typeof parsed === 'string') throw new UsageError(parsed);
      outside = parsed;
    }
    const trustedKeyIds = values['trusted-key']
      ? new Set(values['trusted-key'].map(trustedKeyId))
      : undefined;
    let since: Since | null = null;
    if (values.since !== undefined) {
      const parsed = parseSince(values.since);
      if (typeof parsed === 'string') throw new UsageError(parsed);
      since = parsed;
    }
    const format = values.format ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'csv')
      throw new UsageError(`--format takes jsonl or csv, got "${format}"`);

    const reader = await openAuditReaderAt(storeTarget(values.database, values['database-url'], io.env));
    try {
      if (sub === 'verify') {
        const result = await verifyAudit(reader, {
          ...(outside ? { checkpoint: outside } : {}),
          ...(trustedKeyIds ? { trustedKeyIds } : {}),
        });
        (result.ok ? io.out : io.err).write(`${verifyResultText(result, outside)}\n`);
        return result.ok ? 0 : 1;
      }
      if (sub === 'export') {
        await writeStream(io.out, format, exportRows(reader, since));
        return 0;
      }
      return await pubkeys(reader, io);
    } finally {
      await reader.close();
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err.write(`countersign audit: ${(err as Error).message}\n\n${AUDIT_HELP}`);
      return 4;
    }
    if (err instanceof AuditDatabaseError) {
      io.err.write(`countersign audit: ${err.message}\n`);
      return 4;
    }
    throw err;
  }
}

/** `--database-url`, `--database`, else DATABASE_URL, else DATABASE_PATH (environment or .env). */
function storeTarget(
  pathFlag: string | undefined,
  urlFlag: string | undefined,
  env: NodeJS.ProcessEnv,
): { databaseUrl: string | null; databasePath: string } {
  if (urlFlag !== undefined && urlFlag.trim() !== '')
    return { databaseUrl: urlFlag.trim(), databasePath: '' };
  if (pathFlag !== undefined && pathFlag.trim() !== '') return { databaseUrl: null, databasePath: pathFlag };
  // Like `migrate`: the environment wins over .env.
  if (env === process.env && existsSync('.env')) process.loadEnvFile('.env');
  const url = env.DATABASE_URL?.trim();
  return {
    databaseUrl: url ? url : null,
    databasePath: env.DATABASE_PATH?.trim() || './data/countersign.db',
  };
}

/** Writes in chunks, waiting on back-pressure; stops quietly when the reader goes away (`| head`). */
async function writeStream(
  out: NodeJS.WritableStream,
  format: 'jsonl' | 'csv',
  rows: AsyncIterable<ExportRow>,
): Promise<void> {
  let closed = false;
  const onError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') closed = true;
    else throw err;
  };
  out.on('error', onError);
  try {
    let chunk = format === 'csv' ? CSV_HEADER : '';
    const line = format === 'csv' ? toCsvLine : toJsonLine;
    for await (const row of rows) {
      chunk += line(row);
      if (chunk.length < 64 * 1024) continue;
      if (!out.write(chunk)) await new Promise<void>((resolve) => drainOrClose(out, resolve));
      chunk = '';
      if (closed) return;
    }
    if (chunk !== '' && !closed) out.write(chunk);
  } finally {
    out.off('error', onError);
  }
}

function drainOrClose(out: NodeJS.WritableStream, resolve: () => void): void {
  const done = () => {
    out.off('drain', done);
    out.off('close', done);
    out.off('error', done);
    resolve();
  };
  out.once('drain', done);
  out.once('close', done);
  out.once('error', done);
}

async function pubkeys(reader: AuditReader, io: AuditIo): Promise<number> {
  const keys = await reader.keys();
  if (keys.length === 0) {
    io.err.write(
      'countersign audit: audit_keys is empty: the server has not started against this database yet.\n',
    );
    return 4;
  }
  const last = await reader.lastData(['audit.key_registered', 'audit.key_activated']);
  let current: unknown = null;
  try {
    current = last ? (JSON.parse(last) as { key_id?: unknown }).key_id : null;
  } catch {}
  for (const k of keys) {
    const when = new Date(Number(k.created_at)).toISOString();
    const note = k.key_id === current ? ', signing now' : '';
    io.out.write(`# key ${k.key_id} (Ed25519, registered ${when}${note})\n${k.public_key.trimEnd()}\n`);
  }
  return 0;
}
