import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Gateway } from '../mcp/gateway.js';
import { actionPart, defaultServerName } from '../mcp/names.js';
import { httpUpstream, stdioUpstream, type Upstream } from '../mcp/upstream.js';
import {
  COMMON_OPTIONS_HELP,
  countersignFrom,
  ENV_HELP,
  ENV_REQUESTER,
  flushStdout,
  intOption,
  McpUsageError,
  requesterOption,
  riskOption,
  untilStopped,
} from './mcp-options.js';

export const MCP_PROXY_HELP = `countersign mcp-proxy — an MCP gateway: every tool call waits for a human's approval

Usage:
  countersign mcp-proxy [--name <name>] [--requester-email <email>] [options] -- <command> [args...]
  countersign mcp-proxy [--name <name>] [--requester-email <email>] [options] --url <url> [--header "K: V"]

Starts the upstream MCP server (<command> on stdio, or the Streamable HTTP server at <url>) and
serves MCP on stdio in front of it. Tools, resources, prompts and notifications pass through
unchanged. A call of tool T becomes an approval request for the action mcp.<name>.<T>; the
upstream is called only once it is approved, once, with exactly the approved arguments. Policy
decides as for any request: auto_approve rules forward at once, deny rules refuse outright.

Options:
  --name <name>              the <name> in mcp.<name>.<tool> (default: the command's base name, or
                             the URL's host name); capitals become lower case, and characters
                             outside a-z 0-9 . _ : - become _
${COMMON_OPTIONS_HELP}
  --url <url>                the upstream is a Streamable HTTP MCP server (instead of -- <command>)
  --header "Name: value"     repeatable: an HTTP header sent to the --url upstream
  -h, --help                 show this help

The upstream command gets this environment except COUNTERSIGN_SECRET and COUNTERSIGN_MCP_TOKEN.

${ENV_HELP}
`;

const log = (line: string) => process.stderr.write(`countersign mcp-proxy: ${line}\n`);

export async function mcpProxyCommand(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    if (err instanceof McpUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(
        `countersign mcp-proxy: ${(err as Error).message}\n\nRun "countersign mcp-proxy --help" for the options.\n`,
      );
      return 4;
    }
    throw err;
  }
}

function headersOption(values: string[] | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const h of values ?? []) {
    const at = h.indexOf(':');
    if (at < 1) throw new McpUsageError(`--header must look like "Name: value", not "${h}"`);
    headers[h.slice(0, at).trim()] = h.slice(at + 1).trim();
  }
  return headers;
}

async function run(argv: string[]): Promise<number> {
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const command = split === -1 ? [] : argv.slice(split + 1);
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'requester-email': { type: 'string' },
      ttl: { type: 'string' },
      risk: { type: 'string' },
      'poll-seconds': { type: 'string' },
      url: { type: 'string' },
      header: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(MCP_PROXY_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new McpUsageError(`put the upstream command after "--" (got "${positionals.join(' ')}" before it)`);
  }
  const [program, ...programArgs] = command;
  if ((program === undefined) === (values.url === undefined)) {
    throw new McpUsageError(
      'name the upstream MCP server: either -- <command> [args...] or --url <url>, not both',
    );
  }
  if (values.header && values.url === undefined) throw new McpUsageError('--header only applies with --url');
  const env = process.env;
  const cwd = process.cwd();
  const requester = requesterOption(values['requester-email'], env, cwd);
  if (requester === null) {
    throw new McpUsageError(
      `name the human the agent acts for (the requester of every gated call): --requester-email <email> or ${ENV_REQUESTER}`,
    );
  }
  let upstream: Upstream;
  let name: string;
  if (program !== undefined) {
    upstream = stdioUpstream(program, programArgs, env, cwd);
    name = values.name === undefined ? defaultServerName(program) : actionPart(values.name);
  } else {
    let url: URL;
    try {
      url = new URL(values.url as string);
    } catch {
      throw new McpUsageError(`--url "${values.url}" is not an absolute URL`);
    }
    upstream = httpUpstream(url.href, headersOption(values.header));
    name = actionPart(values.name ?? url.hostname);
  }
  const gateway = new Gateway({
    agent: new StdioServerTransport(),
    upstream,
    server: name,
    settings: {
      requester,
      ttlSeconds: intOption(values.ttl, 'ttl', 10, 2_592_000, 900),
      risk: riskOption(values.risk),
    },
    countersign: countersignFrom(env, cwd),
    pollSeconds: intOption(values['poll-seconds'], 'poll-seconds', 1, 55, 20),
    log,
  });
  try {
    await gateway.start();
  } catch (err) {
    log(`cannot start the upstream MCP server ${upstream.label}: ${(err as Error).message}`);
    return 1;
  }
  void untilStopped(true).then(() => gateway.shutdown(0));
  const code = await gateway.done;
  await flushStdout();
  return code;
}
