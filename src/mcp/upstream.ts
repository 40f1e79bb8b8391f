import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/** The MCP server behind the gateway, and how to speak to it. */
export interface Upstream {
  transport: Transport;
  /** How it is named in messages: the command line, or the URL. */
  label: string;
  /** Why it is gone, in words, once its transport closed (a stdio server's last stderr lines). */
  lastWords(): string;
  /** Tells an HTTP transport the negotiated protocol version (it sends it as a header). */
  setProtocolVersion(version: string): void;
}

/** Variables the upstream server never gets: it must not be able to sign requests as this client. */
const WITHHELD = ['COUNTERSIGN_SECRET', 'COUNTERSIGN_MCP_TOKEN'];
/** How much of the upstream's stderr is kept to explain a crash. */
const TAIL_BYTES = 2000;

/**
 * An upstream started as a child process speaking MCP on stdio. It gets this process's
 * environment except the Countersign secrets; its stderr is passed on to ours, and its last lines
 * are kept to say why it stopped.
 */
export function stdioUpstream(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Upstream {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !WITHHELD.includes(k)) childEnv[k] = v;
  const transport = new StdioClientTransport({ command, args, env: childEnv, cwd, stderr: 'pipe' });
  let tail = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  });
  const label = [command, ...args].join(' ');
  return {
    transport,
    label,
    lastWords() {
      const lines = tail.trim().split('\n').slice(-5).join('\n');
      return lines === '' ? 'it wrote nothing on stderr' : `its last words on stderr:\n${lines}`;
    },
    setProtocolVersion() {
      // stdio carries no protocol header
    },
  };
}

/** An upstream reached over Streamable HTTP, with optional extra headers (e.g. Authorization). */
export function httpUpstream(url: string, headers: Record<string, string>): Upstream {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  return {
    transport,
    label: url,
    lastWords: () => 'the connection closed',
    setProtocolVersion: (version) => transport.setProtocolVersion(version),
  };
}
