#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * The client side of the CLI on its own: what a pipeline or an agent needs, and nothing of the
 * server (no SQLite, no Bolt). `npm run build` bundles it into one file, dist/countersign.mjs, that
 * runs with Node 20 and nothing beside it. Imported instead of run, the same file is the client
 * library (`import { Countersign } from './countersign.mjs'`).
 *
 * A client-side command is one entry of COMMANDS (loaded when used).
 */
export * from '../client/index.js';

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  request: {
    summary: 'ask for approval and optionally wait for it (countersign request --help)',
    run: async (argv) => (await import('./request-command.js')).requestCommand(argv),
  },
  cancel: {
    summary: 'withdraw a pending request: countersign cancel <id> [--reason <text>]',
    run: async (argv) => (await import('./cancel-command.js')).cancelCommand(argv),
  },
  'verify-approval': {
    summary: "check an approval's attestation before acting on it (exit 0 / 1 / 4)",
    run: async (argv) =>
      (await import('./verify-approval-command.js')).verifyApprovalCommand(argv, {
        env: process.env,
        cwd: process.cwd(),
        stdin: process.stdin,
        stdout: process.stdout,
        stderr: process.stderr,
      }),
  },
  mcp: {
    summary: 'MCP server with tools for an AI agent to ask for approval (countersign mcp --help)',
    run: async (argv) => (await import('./mcp-command.js')).mcpCommand(argv),
  },
  'mcp-proxy': {
    summary:
      "MCP gateway: an upstream MCP server's tools run only once approved (countersign mcp-proxy --help)",
    run: async (argv) => (await import('./mcp-proxy-command.js')).mcpProxyCommand(argv),
  },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length)) + 2;
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return `countersign — the client of a Countersign server (a Slack approval gate)

Usage: countersign <command> [options]

Commands:
${lines.join('\n')}

Settings: COUNTERSIGN_URL (the server's base URL) and COUNTERSIGN_SECRET (this client's whsec_...
secret), from the environment or ./.env. Server-side commands (serve, doctor, audit, ...) come
with the server itself.
`;
}

export async function runClient(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`countersign: unknown command "${name}"\n\n${help()}`);
    return 4;
  }
  return command.run(rest);
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  runClient(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`countersign: ${(err as Error).message}\n`);
      process.exitCode = 4;
    },
  );
}
