import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The database holds every request (redacted, but still names, resources and reasons) and, beside
 * it, the audit signing key: only the server's own user may read them. New folders are made 0700,
 * new database files 0600; SQLite gives the `-wal` and `-shm` files it creates the mode of the
 * database file. Existing files are never changed: the operator is warned instead.
 */
export const FOLDER_MODE = 0o700;
export const FILE_MODE = 0o600;

const POSIX = process.platform !== 'win32';

/** Makes `dir` (and missing parents) 0700 when it does not exist yet; an existing folder is left alone. */
export function makeDataFolder(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: FOLDER_MODE });
  // mkdir's mode passes through the umask (which can only remove bits); set it exactly anyway.
  if (first !== undefined && POSIX) chmodSync(dir, FOLDER_MODE);
}

/** Creates the folder (0700) and an empty database file (0600) before SQLite opens it. */
export function prepareDatabaseFile(path: string): void {
  if (path === ':memory:' || path === '' || path.startsWith('file:')) return;
  makeDataFolder(dirname(path));
  if (existsSync(path)) return;
  // 'a' creates the file without truncating one that appeared in the meantime.
  closeSync(openSync(path, 'a', FILE_MODE));
  if (POSIX) chmodSync(path, FILE_MODE);
}

function modeOf(path: string): number | null {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return null;
  }
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/**
 * One warning for the start when an existing database, its `-wal`/`-shm` files or its folder can be
 * read (or entered) by other users of the host; null when there is nothing to say. It names each
 * path with its mode and the commands that fix it.
 */
export function databaseModeWarning(path: string): string | null {
  if (!POSIX || path === ':memory:' || path === '' || path.startsWith('file:')) return null;
  const open: string[] = [];
  const fixes: string[] = [];
  const dir = dirname(path);
  const dirMode = modeOf(dir);
  if (dirMode !== null && (dirMode & 0o077) !== 0) {
    open.push(`the folder ${dir} is ${octal(dirMode)}`);
    fixes.push(`chmod 700 '${dir}'`);
  }
  const files = [path, `${path}-wal`, `${path}-shm`].filter((f) => {
    const mode = modeOf(f);
    if (mode === null || (mode & 0o077) === 0) return false;
    open.push(`${f} is ${octal(mode)}`);
    return true;
  });
  if (files.length > 0) fixes.push(`chmod 600 ${files.map((f) => `'${f}'`).join(' ')}`);
  if (open.length === 0) return null;
  return `The database is readable by other users of this host (${open.join(', ')}): it holds every request and the audit trail. Fix: ${fixes.join(' && ')} (new folders are made 0700 and new database files 0600)`;
}
