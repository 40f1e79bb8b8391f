#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { ConfigError } from '../config-error.js';

// Commands are imported when used, so a short command does not load Bolt and the server.

const HELP = `countersign — a Slack approval gate for privileged actions

Usage: countersign <command> [options]

Commands:
  serve            run the server (Slack app + HTTP API + cron); same as npm start
  sandbox          run the server with an emulated Slack on 127.0.0.1 (countersign sandbox --help)
  migrate          apply pending database migrations (DATABASE_URL or DATABASE_PATH) and exit
  doctor           check the configuration against Slack and this machine, with the fix for each problem
  backup <file>    copy the SQLite database while the server runs (online backup API), checked
  request          ask for approval and optionally wait for it (countersign request --help)
  cancel           withdraw a pending request: countersign cancel <id> [--reason <text>]
  verify-approval  check an approval's attestation before acting on it (exit 0 / 1 / 4)
  policy check     validate a policy file        (countersign policy --help)
  policy explain   show what policy decides for a request body
  mcp              MCP server with tools for an AI agent to ask for approval  (countersign mcp --help)
  mcp-proxy        MCP gateway: an upstream MCP server's tools run only once approved  (countersign mcp-proxy --help)
  audit verify     check the audit trail's hash chain, signatures and checkpoints
  audit export     write the audit events to stdout (JSON Lines or CSV)
  audit pubkey     print the audit signing public key(s)  (countersign audit --help)
  help             show this help

Configuration comes from the environment and an optional .env file (see .env.example).
`;

async function migrate(): Promise<number> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const path = process.env.DATABASE_PATH?.trim() || './data/countersign.db';
  const url = process.env.DATABASE_URL?.trim() || null;
  const { openStore } = await import('../store/open-store.js');
  const store = await openStore({ databaseUrl: url, databasePath: path });
  await store.close();
  process.stdout.write(`database ${store.where} is up to date\n`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'serve':
      await (await import('../main.js')).serve();
      return -1;
    case 'sandbox':
      return (await import('./sandbox-command.js')).sandboxCommand(argv.slice(1));
    case 'migrate':
      return migrate();
    case 'backup':
      return (await import('./backup-command.js')).backupCommand(argv.slice(1));
    case 'doctor':
      return (await import('./doctor.js')).doctorCommand(argv.slice(1));
    case 'request':
      return (await import('./request-command.js')).requestCommand(argv.slice(1));
    case 'cancel':
      return (await import('./cancel-command.js')).cancelCommand(argv.slice(1));
    case 'verify-approval': {
      const { verifyApprovalCommand } = await import('./verify-approval-command.js');
      return verifyApprovalCommand(argv.slice(1), {
        env: process.env,
        cwd: process.cwd(),
        stdin: process.stdin,
        stdout: process.stdout,
        stderr: process.stderr,
      });
    }
    case 'policy':
      return (await import('./policy-command.js')).policyCommand(argv.slice(1));
    case 'audit':
      return (await import('./audit-command.js')).auditCommand(argv.slice(1));
    case 'mcp':
      return (await import('./mcp-command.js')).mcpCommand(argv.slice(1));
    case 'mcp-proxy':
      return (await import('./mcp-proxy-command.js')).mcpProxyCommand(argv.slice(1));
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
