import { type ChildProcess, spawn } from 'node:child_process';

export interface Captured {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  /** Settles when the process has exited and its streams are closed. */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Spawns a process with piped output, collecting stdout and stderr as text. */
export function spawnCaptured(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string>; input?: string; stdin?: 'pipe' | 'ignore' },
): Captured {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: [opts.input !== undefined ? 'pipe' : (opts.stdin ?? 'ignore'), 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) =>
    child.on('close', (code) => res({ code, stdout, stderr })),
  );
  return { child, out: () => stdout, err: () => stderr, done };
}
