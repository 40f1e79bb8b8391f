/** Runs the sandbox as a process: start, print the banner, stop cleanly on Ctrl-C or SIGTERM. */

import type { Level } from '../log.js';
import { SANDBOX_HOST, SandboxError, sandboxBanner, startSandbox } from './launcher.js';

const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

/** Starts the sandbox in `cwd` and keeps it running until a signal. Returns the exit code on failure. */
export async function runSandbox(opts: {
  cwd: string;
  port: number;
  env: Record<string, string | undefined>;
}): Promise<number | null> {
  const host = opts.env.HOST?.trim();
  const notes =
    host && host !== SANDBOX_HOST
      ? [`HOST=${host} is ignored: the sandbox listens on ${SANDBOX_HOST} only.`]
      : [];
  const level = LEVELS.find((l) => l === opts.env.LOG_LEVEL?.trim()) ?? 'warn';
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox({ cwd: opts.cwd, port: opts.port, logLevel: level });
  } catch (err) {
    const message = err instanceof SandboxError ? err.message : (err as Error).message;
    process.stderr.write(`The Countersign sandbox cannot start: ${message}\n`);
    return 1;
  }
  process.stdout.write(sandboxBanner(sandbox, notes));
  const shutdown = () => {
    sandbox.stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`sandbox stop failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return null;
}
