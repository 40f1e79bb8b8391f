import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadSigningKey } from '../audit/keys.js';
import type { Policy } from '../core/policy.js';
import { loadPolicyFile } from '../policy-file.js';
import type { CheckResult } from '../slack/workspace-checks.js';
import { packageRoot } from '../store/package-root.js';

const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail });
const fail = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'fail',
  detail,
  fix,
});

export function checkPolicy(path: string | null): { result: CheckResult; policy: Policy | null } {
  if (path === null) {
    return {
      result: pass('policy', 'no policy file (COUNTERSIGN_POLICY unset): the defaults apply'),
      policy: null,
    };
  }
  const loaded = loadPolicyFile(path);
  if ('errors' in loaded) {
    return {
      result: fail(
        'policy',
        `${path} is invalid: ${loaded.errors.join('; ')}`,
        `fix the file (npx countersign policy check ${path} lists each problem with its line)`,
      ),
      policy: null,
    };
  }
  const p = loaded.policy;
  return {
    result: pass(
      'policy',
      `${path}: ${p.rules.length} rule${p.rules.length === 1 ? '' : 's'}, sha256 ${p.hash.slice(0, 12)}…`,
    ),
    policy: p,
  };
}

/** The signing key: AUDIT_SIGNING_KEY readable, or the generated key beside the database (or room for it). */
export function checkSigningKey(setting: string | null, databasePath: string): CheckResult {
  const name = 'signing key';
  if (setting !== null) {
    try {
      const key = loadSigningKey(setting, databasePath);
      return pass(name, `AUDIT_SIGNING_KEY: Ed25519, key id ${key.keyId}`);
    } catch (err) {
      return fail(
        name,
        (err as Error).message,
        'give an Ed25519 private key as PEM text or a path (openssl genpkey -algorithm ed25519)',
      );
    }
  }
  const dir = databasePath === ':memory:' ? process.cwd() : dirname(resolve(databasePath));
  const path = join(dir, 'audit-signing-key.pem');
  if (existsSync(path)) {
    try {
      const key = loadSigningKey(null, databasePath);
      return pass(name, `${path}: Ed25519, key id ${key.keyId} (back this file up with the database)`);
    } catch (err) {
      return fail(name, (err as Error).message, `restore ${path} from a backup, or set AUDIT_SIGNING_KEY`);
    }
  }
  const room = creatable(dir);
  return room === null
    ? pass(name, `none yet: the first start generates ${path}`)
    : fail(
        name,
        `cannot generate ${path}: ${room}`,
        `make ${dir} writable for the server, or set AUDIT_SIGNING_KEY`,
      );
}

/** Why `dir` cannot be created or written, or null when it can. */
function creatable(dir: string): string | null {
  let probe = dir;
  while (!existsSync(probe)) {
    const parent = dirname(probe);
    if (parent === probe) return 'no existing folder above it';
    probe = parent;
  }
  if (!statSync(probe).isDirectory()) return `${probe} is a file, not a folder`;
  try {
    accessSync(probe, constants.W_OK | constants.X_OK);
  } catch {
    return `${probe} is not writable`;
  }
  return null;
}

interface Journal {
  entries: { tag: string; when: number }[];
}

/** The migrations shipped with this build (drizzle-kit's journal; SQLite's by default). */
export function sqliteJournal(folder = join(packageRoot(), 'drizzle')): Journal {
  return JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as Journal;
}

/** Tags of shipped migrations newer than the newest applied one (drizzle's rule). */
export function pendingMigrations(journal: Journal, appliedAt: number[]): string[] {
  const last = appliedAt.length > 0 ? Math.max(...appliedAt) : Number.NEGATIVE_INFINITY;
  return journal.entries.filter((e) => e.when > last).map((e) => e.tag);
}

const MIGRATE_FIX = 'run npx countersign migrate (npm start also applies them before serving)';

/** The SQLite file: writable (a write transaction is opened and rolled back) and fully migrated. */
export async function checkSqlite(path: string, journal: Journal = sqliteJournal()): Promise<CheckResult> {
  const name = 'database';
  if (path === ':memory:') return pass(name, 'in memory: nothing survives a restart');
  const full = resolve(path);
  if (!existsSync(full)) {
    const room = creatable(dirname(full));
    return room === null
      ? pass(
          name,
          `${full} does not exist yet: the first start creates it and applies ${journal.entries.length} migrations`,
        )
      : fail(
          name,
          `${full} cannot be created: ${room}`,
          'set DATABASE_PATH to a file in a folder the server may write',
        );
  }
  if (statSync(full).isDirectory()) {
    return fail(name, `${full} is a folder, not a database file`, 'set DATABASE_PATH to a file path');
  }
  const { default: Database } = await import('better-sqlite3');
  let db: InstanceType<typeof Database> | null = null;
  try {
    db = new Database(full, { fileMustExist: true, timeout: 5000 });
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec('CREATE TABLE countersign_doctor_probe (x INTEGER)');
    } finally {
      db.exec('ROLLBACK');
    }
    const table = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
      .get();
    const applied = table
      ? (db.prepare('SELECT created_at AS at FROM __drizzle_migrations').all() as { at: number }[]).map((r) =>
          Number(r.at),
        )
      : [];
    const pending = pendingMigrations(journal, applied);
    if (pending.length > 0) {
      return fail(
        name,
        `${full} is writable but ${pending.length} migration(s) are pending: ${pending.join(', ')}`,
        MIGRATE_FIX,
      );
    }
    return pass(name, `${full} is writable and migrated (${applied.length} migrations)`);
  } catch (err) {
    return fail(
      name,
      `${full} is not writable: ${(err as Error).message}`,
      "give the server's user write access to the file and to its folder (SQLite writes -wal and -shm files beside it)",
    );
  } finally {
    db?.close();
  }
}

/**
 * PostgreSQL (DATABASE_URL): reachable, the server's user may create tables, and the migrations of
 * `drizzle/pg` (drizzle's table `__drizzle_migrations` in the connection's schema) are applied.
 */
export async function checkPostgres(
  url: string,
  folder = join(packageRoot(), 'drizzle', 'pg'),
): Promise<CheckResult> {
  const name = 'database';
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  const where = (() => {
    try {
      const u = new URL(url);
      return `${u.hostname}:${u.port || 5432}${u.pathname}`;
    } catch {
      return 'DATABASE_URL';
    }
  })();
  try {
    await client.connect();
  } catch (err) {
    return fail(
      name,
      `cannot connect to PostgreSQL at ${where}: ${(err as Error).message}`,
      'check DATABASE_URL, the network and the credentials',
    );
  }
  try {
    await client.query('BEGIN');
    try {
      await client.query('CREATE TABLE countersign_doctor_probe (x integer)');
    } finally {
      await client.query('ROLLBACK');
    }
  } catch (err) {
    await client.end().catch(() => {});
    return fail(
      name,
      `PostgreSQL at ${where} refuses writes: ${(err as Error).message}`,
      "grant the user CREATE and write privileges on the database's schema",
    );
  }
  try {
    if (!existsSync(join(folder, 'meta', '_journal.json'))) {
      return pass(name, `PostgreSQL at ${where} is reachable and writable`);
    }
    const journal = sqliteJournal(folder);
    const exists = await client.query("SELECT to_regclass('__drizzle_migrations') AS t");
    const applied = exists.rows[0]?.t
      ? (await client.query('SELECT created_at FROM __drizzle_migrations')).rows.map((r) =>
          Number(r.created_at),
        )
      : [];
    const pending = pendingMigrations(journal, applied);
    if (pending.length > 0) {
      return fail(
        name,
        `PostgreSQL at ${where} is writable but ${pending.length} migration(s) are pending: ${pending.join(', ')}`,
        MIGRATE_FIX,
      );
    }
    return pass(
      name,
      `PostgreSQL at ${where} is reachable, writable and migrated (${applied.length} migrations)`,
    );
  } catch (err) {
    return fail(
      name,
      `cannot read the applied migrations at ${where}: ${(err as Error).message}`,
      MIGRATE_FIX,
    );
  } finally {
    await client.end().catch(() => {});
  }
}
