import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SERVER_ENV, SERVER_NODE_FLAGS } from './server-launch.js';

/** Messages a bench child sends over IPC. */
export type ChildMessage =
  | { type: 'ready'; url: string; pid: number }
  | { type: 'stats'; id: number; stats: Record<string, number> }
  | { type: 'error'; message: string };

const running = new Set<ChildProcess>();

let guarded = false;

/** Whatever happens to the parent, no child outlives it (set up by the first `Child.start`). */
function guardParent(): void {
  if (guarded) return;
  guarded = true;
  const killAll = () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

/**
 * A bench child process (a compiled module next to this one, run with IPC). It announces itself with
 * `{type: 'ready', url}`; `stats()` asks it for numbers; `stop()` asks it to stop and waits, killing it
 * if it does not exit in time.
 */
export class Child {
  readonly url: string;
  readonly pid: number;
  private nextId = 1;
  private readonly waiting = new Map<number, (stats: Record<string, number>) => void>();

  private constructor(
    private readonly proc: ChildProcess,
    ready: { url: string; pid: number },
    readonly name: string,
  ) {
    this.url = ready.url;
    this.pid = ready.pid;
    proc.on('message', (m: ChildMessage) => {
      if (m.type === 'stats') {
        this.waiting.get(m.id)?.(m.stats);
        this.waiting.delete(m.id);
      }
    });
  }

  static async start(
    module: string,
    opts: { env?: Record<string, string>; execArgv?: string[]; name: string; timeoutMs?: number },
  ): Promise<Child> {
    guardParent();
    // BENCH_CPU_PROF=<dir> profiles the product server (`--cpu-prof`); open the .cpuprofile in Chrome DevTools.
    const profile =
      process.env.BENCH_CPU_PROF && module.includes('server-child')
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : [];
    // The product server runs as it is launched in production (bench/lib/server-launch.ts).
    const server = module.includes('server-child');
    const proc = fork(new URL(module, import.meta.url), [], {
      env: { ...process.env, ...(server ? SERVER_ENV : {}), ...opts.env },
      execArgv: [...(server ? SERVER_NODE_FLAGS : []), ...(opts.execArgv ?? []), ...profile],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`${opts.name}: not ready within ${opts.timeoutMs ?? 15_000} ms`));
      }, opts.timeoutMs ?? 15_000);
      proc.on('message', (m: ChildMessage) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          resolve({ url: m.url, pid: m.pid });
        } else if (m.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`${opts.name}: ${m.message}`));
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${opts.name}: exited with code ${code} before it was ready`));
      });
    });
    return new Child(proc, ready, opts.name);
  }

  /** Numbers the child reports about itself (memory, queue sizes, ...). */
  stats(opts: { gc?: boolean } = {}, timeoutMs = 10_000): Promise<Record<string, number>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: no stats within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (stats) => {
        clearTimeout(timer);
        resolve(stats);
      });
      this.proc.send({ type: 'stats', id, gc: opts.gc === true });
    });
  }

  /** Asks the child to run one of its `commands` (see `serveChild`); resolves with its figures. */
  run(command: string, timeoutMs = 60_000): Promise<Record<string, number>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: ${command} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (stats) => {
        clearTimeout(timer);
        resolve(stats);
      });
      this.proc.send({ type: 'run', id, command });
    });
  }

  /** Resident set size read from /proc (independent of the child's own report). */
  rssBytes(): number {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
      return kb ? Number(kb) * 1024 : Number.NaN;
    } catch {
      return Number.NaN;
    }
  }

  /** Asks the child to stop; kills it after `timeoutMs`. Resolves with its exit code. */
  async stop(timeoutMs = 10_000): Promise<number | null> {
    if (this.proc.exitCode !== null) return this.proc.exitCode;
    const exited = new Promise<number | null>((resolve) => this.proc.once('exit', (code) => resolve(code)));
    if (this.proc.connected) this.proc.send({ type: 'stop' });
    else this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}

/** Child side: answers `stats` requests with `collect()` and calls `stop()` on request or when the parent goes. */
export function serveChild(opts: {
  url: string;
  collect: () => Record<string, number> | Promise<Record<string, number>>;
  stop: () => Promise<void>;
  /** Work the bench can ask for by name (`Child.run`), answered with figures. */
  commands?: Record<string, () => Promise<Record<string, number>>>;
}): void {
  const send = (m: ChildMessage) => process.send?.(m);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    opts.stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`bench child stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('message', (m: { type: string; id?: number; gc?: boolean; command?: string }) => {
    const command = m.type === 'run' ? opts.commands?.[m.command ?? ''] : undefined;
    if (command) {
      command().then(
        (stats) => send({ type: 'stats', id: m.id ?? 0, stats }),
        (err) => send({ type: 'error', message: String(err) }),
      );
    }
    if (m.type === 'stats') {
      // Run with --expose-gc, a child can be asked for its figures after a full collection.
      if (m.gc) (globalThis as { gc?: () => void }).gc?.();
      void Promise.resolve(opts.collect()).then((stats) => send({ type: 'stats', id: m.id ?? 0, stats }));
    }
    if (m.type === 'stop') stop();
  });
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  send({ type: 'ready', url: opts.url, pid: process.pid });
}

export function reportStartFailure(err: unknown): never {
  process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
