import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, parseEnv } from 'node:util';

export const BACKUP_HELP = `countersign backup — a consistent copy of the SQLite database, taken while the server runs

Usage:
  countersign backup <file> [--force]

  Uses SQLite's online backup API: the copy is a complete database as of one moment, even while
  the server writes. The copy is checked (PRAGMA integrity_check) and written with mode 0600; it
  replaces <file> only when complete. Restore by stopping the server and putting the copy at
  DATABASE_PATH. Reads DATABASE_PATH like the server (environment, then ./.env).

  The audit signing key is not in the database: back up audit-signing-key.pem (beside the
  database) or wherever AUDIT_SIGNING_KEY points, once, separately.

Options:
  --force      replace <file> if it exists
  -h, --help   show this help

Exit codes: 0 copied and checked, 1 the check of the copy failed, 4 usage or configuration error.
`;

export interface BackupIo {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function backupCommand(argv: string[], io?: BackupIo): Promise<number> {
  const out: BackupIo = io ?? {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
  };
  const err = (line: string) => out.stderr.write(`${line}\n`);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    err(`countersign backup: ${(e as Error).message}`);
    return 4;
  }
  if (parsed.values.help) {
    out.stdout.write(BACKUP_HELP);
    return 0;
  }
  const [target, ...extra] = parsed.positionals;
  if (!target || extra.length > 0) {
    err(
      'countersign backup: give the file to write, e.g. countersign backup /backups/countersign-$(date +%F).db',
    );
    return 4;
  }
  const envFile = resolve(out.cwd, '.env');
  const env = { ...(existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {}), ...out.env };
  if (env.DATABASE_URL?.trim()) {
    err(
      'countersign backup: DATABASE_URL is set: back PostgreSQL up with its own tools, e.g. pg_dump --format=custom --file=countersign.dump "$DATABASE_URL" (or your provider\'s snapshots)',
    );
    return 4;
  }
  const source = resolve(out.cwd, env.DATABASE_PATH?.trim() || './data/countersign.db');
  const dest = resolve(out.cwd, target);
  if (!existsSync(source)) {
    err(`countersign backup: no database at ${source} (DATABASE_PATH)`);
    return 4;
  }
  if (dest === source) {
    err('countersign backup: the copy must go to another file than the database itself');
    return 4;
  }
  if (existsSync(dest) && !parsed.values.force) {
    err(`countersign backup: ${dest} exists; give another file or --force`);
    return 4;
  }
  const { default: Database } = await import('better-sqlite3');
  const partial = `${dest}.partial`;
  rmSync(partial, { force: true });
  const db = new Database(source, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    const meta = await db.backup(partial);
    chmodSync(partial, 0o600);
    const copy = new Database(partial, { readonly: true });
    const check = copy.pragma('integrity_check', { simple: true });
    const requests = (copy.prepare('SELECT count(*) AS n FROM requests').get() as { n: number }).n;
    const events = (copy.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    copy.close();
    if (check !== 'ok') {
      rmSync(partial, { force: true });
      err(`countersign backup: the copy failed its integrity check (${String(check)}); nothing was written`);
      return 1;
    }
    renameSync(partial, dest);
    const sha = createHash('sha256').update(readFileSync(dest)).digest('hex');
    out.stdout.write(
      `${dest}: ${meta.totalPages} pages, ${requests} requests, ${events} audit events, sha256 ${sha}\n`,
    );
    const key = join(dirname(source), 'audit-signing-key.pem');
    if (!env.AUDIT_SIGNING_KEY?.trim() && existsSync(key)) {
      err(`Keep a copy of ${key} too (the audit signing key is not in the database).`);
    }
    return 0;
  } finally {
    db.close();
    rmSync(partial, { force: true });
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
}
