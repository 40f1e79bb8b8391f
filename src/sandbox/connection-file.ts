/**
 * `./data/sandbox/connection.json`: how the CLI in the sandbox's folder reaches it without any
 * configuration. Written (mode 0600) when the sandbox starts, removed when it stops; trusted only
 * while the process that wrote it is alive.
 */

import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SandboxConnection {
  url: string;
  client: string;
  secret: string;
  pid: number;
}

export const SANDBOX_DIR = join('data', 'sandbox');

export function connectionPath(cwd: string): string {
  return join(cwd, SANDBOX_DIR, 'connection.json');
}

export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The file's content when it is well-formed, else null. */
export function readConnectionFile(path: string): SandboxConnection | null {
  if (!existsSync(path)) return null;
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as Partial<SandboxConnection>;
    if (typeof c.url !== 'string' || typeof c.secret !== 'string' || typeof c.pid !== 'number') return null;
    return {
      url: c.url,
      client: typeof c.client === 'string' ? c.client : 'demo',
      secret: c.secret,
      pid: c.pid,
    };
  } catch {
    return null;
  }
}

/**
 * The running sandbox of the folder `cwd`: its connection, or why there is none usable
 * (`stale`: the file is there but its process has ended).
 */
export function sandboxConnection(
  cwd: string,
): { kind: 'running'; connection: SandboxConnection } | { kind: 'none' } | { kind: 'stale'; pid: number } {
  const c = readConnectionFile(connectionPath(cwd));
  if (c === null) return { kind: 'none' };
  return processAlive(c.pid) ? { kind: 'running', connection: c } : { kind: 'stale', pid: c.pid };
}

export function writeConnectionFile(path: string, c: SandboxConnection): void {
  rmSync(path, { force: true });
  writeFileSync(path, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

/** Removes the file if it still describes process `pid` (a newer sandbox's file is left alone). */
export function removeConnectionFile(path: string, pid: number): void {
  if (readConnectionFile(path)?.pid === pid) rmSync(path, { force: true });
}
