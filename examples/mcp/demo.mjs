#!/usr/bin/env node
// The MCP gateway, end to end: an agent (here, the MCP SDK's client) talks only to
// `countersign mcp-proxy`, which stands in front of examples/mcp/notes-server.mjs.
//
//   npm run build
//   node examples/mcp/demo.mjs [requester-email]
//
// It needs what the CLI needs: COUNTERSIGN_URL and COUNTERSIGN_SECRET (environment or ./.env, or a
// sandbox running in this folder: then nothing at all), and the human the agent acts for: the
// argument, or COUNTERSIGN_REQUESTER_EMAIL (in a sandbox folder, its demo requester). Then it calls
// read_note (with examples/mcp/policy.yml on the server: auto-approved, it runs at once) and
// delete_note (held until someone approves or denies it in Slack), and prints what the agent gets.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '../../dist/src/cli/main.js');
/** In a folder where the sandbox runs (`npm start` with no Slack settings), its demo requester. */
const SANDBOX_REQUESTER = 'riley@sandbox.example';
const inSandbox = existsSync(join(process.cwd(), 'data', 'sandbox', 'connection.json'));
const requester =
  process.argv[2] ?? process.env.COUNTERSIGN_REQUESTER_EMAIL ?? (inSandbox ? SANDBOX_REQUESTER : undefined);
if (!requester) {
  console.error(
    'usage: node examples/mcp/demo.mjs <requester-email>   (or set COUNTERSIGN_REQUESTER_EMAIL; in a folder\n' +
      'where the sandbox runs, its demo requester is used)',
  );
  process.exit(4);
}
if (inSandbox && !process.argv[2] && !process.env.COUNTERSIGN_REQUESTER_EMAIL) {
  console.log(`Sandbox found in this folder: the agent acts for ${requester} (Riley Chen).`);
}

/** The environment for the gateway: ours, so it finds COUNTERSIGN_URL / _SECRET as the CLI does. */
const env = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined));
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [
    cli,
    'mcp-proxy',
    '--name',
    'notes',
    '--requester-email',
    requester,
    '--',
    process.execPath,
    join(here, 'notes-server.mjs'),
  ],
  env,
  stderr: 'inherit',
});
const client = new Client({ name: 'countersign-demo-agent', version: '1.0.0' });
await client.connect(transport);

const { tools } = await client.listTools();
console.log(`The agent sees the upstream's tools, unchanged: ${tools.map((t) => t.name).join(', ')}`);

/** Calls a tool as an agent would, showing the gateway's progress while a human decides. */
async function call(name, args) {
  console.log(`\nagent → ${name} ${JSON.stringify(args)}`);
  const shown = new Set();
  const result = await client.callTool({ name, arguments: args }, CallToolResultSchema, {
    timeout: 15 * 60_000,
    resetTimeoutOnProgress: true,
    onprogress: ({ message }) => {
      const id = /req_\w+/.exec(message ?? '')?.[0];
      if (id && !shown.has(id)) {
        shown.add(id);
        console.log(`  ${message}\n  → approve or deny ${id} in Slack (or on the sandbox page)`);
      }
    },
  });
  const text = result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
  console.log(`${result.isError ? 'agent ← refused: ' : 'agent ← '}${text}`);
  return result;
}

try {
  await call('read_note', { name: 'groceries' });
  await call('delete_note', { name: 'launch-plan' });
} finally {
  await client.close();
}
