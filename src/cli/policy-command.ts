import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeJwt, type JWTPayload } from 'jose';
import type { Caller } from '../core/caller.js';
import { explainPolicy, type Policy } from '../core/policy.js';
import { parseCreateRequest } from '../core/request-schema.js';
import type { Risk } from '../core/types.js';
import { callerFromPayload } from '../identity/caller-claims.js';
import { loadPolicyFile } from '../policy-file.js';
import { loadDotEnv, readInput } from './read-input.js';

const HELP = `Usage:
  countersign policy check [file]
      Validates a policy file (default: $COUNTERSIGN_POLICY). Exit 0 when valid; otherwise every
      problem is printed as file:line: field: message and the exit code is 1.
  countersign policy explain [request.json | -] [--policy file] [--client name] [--claims file]
      Shows which rule a request body would match and what follows (channel, approvers, quorum,
      TTL, attestation lifetime, outcome) without creating anything. The body is read from the
      file, or from stdin. --client defaults to "ci"; --policy defaults to $COUNTERSIGN_POLICY
      (none: built-in defaults). --claims explains a request from an OIDC caller: a JSON file of
      the ID token's claims (iss, sub, repository, ref, actor, ...) or a file holding the token
      itself (decoded, not verified); give --client the COUNTERSIGN_OIDC entry name, e.g. github.
  countersign policy explain --mcp <name> --tool <tool> [--risk level] [--policy file] [--client name]
      The same for a tool call through "countersign mcp-proxy --name <name>": the action
      mcp.<name>.<tool>, with the risk the proxy is given (default medium). --client: the proxy's client.
`;

async function check(args: string[]): Promise<number> {
  loadDotEnv();
  const file = args[0] ?? process.env.COUNTERSIGN_POLICY?.trim();
  if (!file) {
    process.stderr.write(`countersign policy check: name a file or set COUNTERSIGN_POLICY\n\n${HELP}`);
    return 4;
  }
  const loaded = loadPolicyFile(file);
  if ('errors' in loaded) {
    process.stderr.write(
      `${loaded.errors.join('\n')}\n${file}: invalid (${loaded.errors.length} problem(s))\n`,
    );
    return 1;
  }
  const rules = loaded.policy.rules.length;
  process.stdout.write(
    `${file}: valid, ${rules} rule${rules === 1 ? '' : 's'}, sha256 ${loaded.policy.hash}\n`,
  );
  return 0;
}

async function explain(args: string[]): Promise<number> {
  loadDotEnv();
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      policy: { type: 'string' },
      client: { type: 'string', default: 'ci' },
      claims: { type: 'string' },
      mcp: { type: 'string' },
      tool: { type: 'string' },
      risk: { type: 'string' },
    },
  });
  let caller: Caller | null = null;
  if (values.claims !== undefined) {
    const read = readClaims(values.claims);
    if ('error' in read) {
      process.stderr.write(`countersign policy explain: ${read.error}\n`);
      return 4;
    }
    caller = read.caller;
  }
  const policyFile = values.policy ?? process.env.COUNTERSIGN_POLICY?.trim();
  let policy: Policy | null = null;
  if (policyFile) {
    const loaded = loadPolicyFile(policyFile);
    if ('errors' in loaded) {
      process.stderr.write(
        `${loaded.errors.join('\n')}\nthe policy file is invalid; fix it first (countersign policy check)\n`,
      );
      return 1;
    }
    policy = loaded.policy;
  }
  const mcp = values.mcp !== undefined || values.tool !== undefined || values.risk !== undefined;
  if (mcp && (!values.mcp || !values.tool || positionals.length > 0)) {
    process.stderr.write(
      `countersign policy explain: give both --mcp <name> and --tool <tool> (and no request body)\n\n${HELP}`,
    );
    return 4;
  }
  const input = mcp
    ? await mcpToolBody(values.mcp as string, values.tool as string, values.risk)
    : await readInput(positionals[0]);
  if (input === null) {
    process.stderr.write(`countersign policy explain: give a request body as a file or on stdin\n\n${HELP}`);
    return 4;
  }
  let body: unknown;
  try {
    body = JSON.parse(input.text);
  } catch (err) {
    process.stderr.write(`${input.name}: not valid JSON: ${(err as Error).message}\n`);
    return 4;
  }
  const parsed = parseCreateRequest(body);
  if (!parsed.ok) {
    process.stderr.write(`${input.name}: not a valid request body:\n`);
    for (const issue of parsed.issues) process.stderr.write(`  ${issue.path}: ${issue.message}\n`);
    return 4;
  }
  process.stdout.write(`${explainPolicy(policy, parsed.value, values.client ?? 'ci', caller)}\n`);
  return 0;
}

/** A caller from a JSON file of claims, or from a file holding an ID token (decoded, not verified). */
export function readClaims(file: string): { caller: Caller } | { error: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    return { error: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  let claims: JWTPayload;
  try {
    claims = text.startsWith('{') ? (JSON.parse(text) as JWTPayload) : decodeJwt(text);
  } catch {
    return { error: `${file} must hold a JSON object of claims, or an ID token` };
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    return { error: `${file} must hold a JSON object of claims, or an ID token` };
  }
  const issuer = typeof claims.iss === 'string' ? claims.iss : '(no iss)';
  return {
    caller: callerFromPayload(issuer, { ...claims, sub: typeof claims.sub === 'string' ? claims.sub : '' }),
  };
}

/** The request body `countersign mcp-proxy` would send for a call of `tool` (its arguments do not matter to policy). */
async function mcpToolBody(server: string, tool: string, risk: string | undefined) {
  const { toolCallRequest } = await import('../mcp/call-request.js');
  const { actionPart } = await import('../mcp/names.js');
  const settings = {
    requester: { email: 'agent-user@example.com' },
    ttlSeconds: 900,
    risk: (risk ?? 'medium') as Risk,
  };
  const sent = toolCallRequest(actionPart(server), tool, null, {}, settings);
  process.stdout.write(`MCP tool call: tool "${tool}" of server "${server}" through countersign mcp-proxy\n`);
  return { text: sent.body, name: `mcp-proxy --name ${server}` };
}

export async function policyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'check') return check(rest);
  if (sub === 'explain') return explain(rest);
  if (sub === undefined || sub === 'help' || sub === '--help') {
    process.stdout.write(HELP);
    return sub === undefined ? 4 : 0;
  }
  process.stderr.write(`countersign policy: unknown subcommand "${sub}"\n\n${HELP}`);
  return 4;
}
