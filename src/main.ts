#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { SandboxUsageError, sandboxPort, slackConfigured } from './sandbox/start-rules.js';
import { startServer } from './server.js';

/**
 * Loads `.env` when present (the environment wins), then runs the server until a signal. With no
 * Slack credential configured at all, it runs the sandbox instead (CONTRACT §6).
 */
export async function serve(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  if (!slackConfigured(process.env)) {
    const { runSandbox } = await import('./sandbox/run.js');
    const port = sandboxPortOrExit(process.env);
    const code = await runSandbox({ cwd: process.cwd(), port, env: process.env });
    if (code !== null) process.exit(code);
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee .env.example for what each variable means.\n`);
      process.exit(1);
    }
    throw err;
  }
  const level = config.logLevel;
  const log = createLogger(level);
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer(config, { log, logLevel: level });
  } catch (err) {
    process.stderr.write(`Countersign cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    log.info('shutting down', { signal });
    running.stop().then(
      () => process.exit(0),
      (err) => {
        log.error('shutdown failed', { error: err });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    running.reloadPolicy().catch((err: unknown) => log.error('policy reload failed', { error: err }));
  });
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', { error: err }));
}

function sandboxPortOrExit(env: NodeJS.ProcessEnv): number {
  try {
    return sandboxPort([], env);
  } catch (err) {
    if (!(err instanceof SandboxUsageError)) throw err;
    process.stderr.write(`Countersign cannot start the sandbox: ${err.message}\n`);
    process.exit(1);
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly) await serve();
