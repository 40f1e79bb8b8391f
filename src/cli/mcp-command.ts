import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { type AskServerOptions, createAskServer } from '../mcp/ask-server.js';
import { serveHttp } from '../mcp/http-host.js';
import {
  COMMON_OPTIONS_HELP,
  countersignFrom,
  ENV_HELP,
  ENV_MCP_TOKEN,
  flushStdout,
  intOption,
  McpUsageError,
  requesterOption,
  riskOption,
  setting,
  untilStopped,
} from './mcp-options.js';

export const MCP_HELP = `countersign mcp — an MCP server with tools for an AI agent to ask for approval

Usage:
  countersign mcp [--requester-email <email>] [options]              (stdio)
  countersign mcp --http <port> [--host <address>] [options]          (Streamable HTTP)

Tools: request_approval, wait_for_decision, get_request, cancel_request, and approval_prompt
(a permission-prompt hook: answers {"behavior":"allow",...} or {"behavior":"deny",...}).
No tool holds a call longer than 55 s; a pending answer says how to keep waiting.

Options:
${COMMON_OPTIONS_HELP.replace('a gated call', 'an approval_prompt request')}
  --http <port>              serve Streamable HTTP at http://<host>:<port>/mcp instead of stdio;
                             every request needs "Authorization: Bearer <token>"
  --host <address>           where --http listens (default 127.0.0.1)
  -h, --help                 show this help

Without --requester-email, request_approval takes the requester as an argument and
approval_prompt denies everything (it has nobody to ask for).

${ENV_HELP}
  ${ENV_MCP_TOKEN}        the bearer token for --http (default: a random one, printed on stderr)
`;

const log = (line: string) => process.stderr.write(`countersign mcp: ${line}\n`);

export async function mcpCommand(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    if (err instanceof McpUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(
        `countersign mcp: ${(err as Error).message}\n\nRun "countersign mcp --help" for the options.\n`,
      );
      return 4;
    }
    throw err;
  }
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'requester-email': { type: 'string' },
      ttl: { type: 'string' },
      risk: { type: 'string' },
      'poll-seconds': { type: 'string' },
      http: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(MCP_HELP);
    return 0;
  }
  const env = process.env;
  const cwd = process.cwd();
  const options: AskServerOptions = {
    countersign: countersignFrom(env, cwd),
    requester: requesterOption(values['requester-email'], env, cwd),
    prompt: { ttlSeconds: intOption(values.ttl, 'ttl', 10, 2_592_000, 900), risk: riskOption(values.risk) },
    pollSeconds: intOption(values['poll-seconds'], 'poll-seconds', 1, 55, 20),
    log,
  };
  if (values.http === undefined) {
    if (values.host !== undefined) throw new McpUsageError('--host only applies with --http <port>');
    const server = createAskServer(options);
    await server.connect(new StdioServerTransport());
    const why = await untilStopped(true);
    if (why.startsWith('SIG')) log(`stopping (${why})`);
    await server.close().catch(() => {});
    await flushStdout();
    return 0;
  }

  const port = intOption(values.http, 'http', 0, 65_535, 0);
  const given = setting(env, cwd, ENV_MCP_TOKEN);
  const token = given ?? randomBytes(24).toString('base64url');
  const host = values.host ?? '127.0.0.1';
  const served = await serveHttp({ host, port, token, newServer: () => createAskServer(options), log });
  log(`serving MCP over Streamable HTTP at ${served.url}`);
  log(
    given
      ? `bearer token: the value of ${ENV_MCP_TOKEN}`
      : `bearer token: ${token}  (generated; set ${ENV_MCP_TOKEN} to choose it)`,
  );
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
    log(
      `warning: listening on ${host}, not only on this machine; anyone with the token can ask for approvals`,
    );
  }
  const why = await untilStopped(false);
  log(`stopping (${why})`);
  await served.close();
  return 0;
}
