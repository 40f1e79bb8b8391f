#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { ConfigError } from '../config.js';
import { serve } from '../main.js';
import { openDatabase } from '../store/db.js';

const HELP = `countersign — a Slack approval gate for privileged actions

Usage: countersign <command> [options]

Commands:
  serve            run the server (Slack app + HTTP API + cron); same as npm start
  migrate          apply pending database migrations to DATABASE_PATH and exit
  help             show this help

Configuration comes from the environment and an optional .env file (see .env.example).
`;

async function migrate(): Promise<number> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const path = process.env.DATABASE_PATH?.trim() || './data/countersign.db';
  const db = openDatabase(path);
  db.close();
  process.stdout.write(`database ${path} is up to date\n`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'serve':
      await serve();
      return -1;
    case 'migrate':
      return migrate();
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    default:
      process.stderr.write(`countersign: unknown command "${command}"\n\n${HELP}`);
      return 4;
  }
}

try {
  const code = await run(process.argv.slice(2));
  if (code >= 0) process.exitCode = code;
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 4;
  } else {
    process.stderr.write(`countersign: ${(err as Error).message}\n`);
    process.exitCode = 4;
  }
}
