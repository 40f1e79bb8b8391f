import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, FIXTURE, tempDir } from '../support/mcp.js';

// The command lines of `countersign mcp`, `mcp-proxy` and `policy explain --mcp`: help, usage
// errors, and what policy decides for a gated tool, without a server.

const tmp = tempDir('countersign-mcp-cli-');
afterAll(() => tmp.cleanup());

const SECRET = `whsec_${Buffer.from('mcp-cli-test-secret-0123456789').toString('base64')}`;

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: tmp.dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const POLICY = `version: 1
rules:
  - name: notes-read-only
    match: { action: "mcp.notes.{read,list}_*" }
    outcome: auto_approve
  - name: never-drop
    match: { action: "mcp.notes.drop_*" }
    outcome: deny
  - name: agent-reviews
    match: { action: "mcp.*", client: agent }
    min_approvals: 2
`;

describe('countersign policy explain --mcp', () => {
  const policy = tmp.file('policy.yml', POLICY);

  it('explains a read-only tool as auto-approved by its rule', () => {
    const r = cli(['policy', 'explain', '--policy', policy, '--mcp', 'notes', '--tool', 'read_note']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/MCP tool call: tool "read_note" of server "notes"/);
    expect(r.out).toMatch(/action "mcp\.notes\.read_note"/);
    expect(r.out).toMatch(/"notes-read-only".*MATCHES/);
    expect(r.out).toMatch(/Outcome: auto_approve/);
  });

  it("explains a refused tool, and a reviewed one with the quorum of the rule for the proxy's client", () => {
    const drop = cli(['policy', 'explain', '--policy', policy, '--mcp', 'notes', '--tool', 'drop_all_notes']);
    expect(drop.out).toMatch(/"never-drop".*MATCHES/);
    expect(drop.out).toMatch(/Outcome: deny/);
    const del = cli([
      'policy',
      'explain',
      '--policy',
      policy,
      '--mcp',
      'Notes',
      '--tool',
      'deleteNote',
      '--client',
      'agent',
    ]);
    expect(del.out).toMatch(/action "mcp\.notes\.deletenote"/);
    expect(del.out).toMatch(/"agent-reviews".*MATCHES/);
    expect(del.out).toMatch(/Quorum: 2 approvals/);
  });

  it('wants both --mcp and --tool', () => {
    const r = cli(['policy', 'explain', '--mcp', 'notes']);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/give both --mcp <name> and --tool <tool>/);
  });
});

describe('usage errors', () => {
  it('mcp-proxy needs the requester, the upstream, and the connection', () => {
    const conn = { COUNTERSIGN_URL: 'http://127.0.0.1:9', COUNTERSIGN_SECRET: SECRET };
    const noRequester = cli(['mcp-proxy', '--', process.execPath, FIXTURE], conn);
    expect(noRequester.code).toBe(4);
    expect(noRequester.err).toMatch(/--requester-email <email> or COUNTERSIGN_REQUESTER_EMAIL/);
    const noUpstream = cli(['mcp-proxy', '--requester-email', 'a@example.com'], conn);
    expect(noUpstream.code).toBe(4);
    expect(noUpstream.err).toMatch(/either -- <command> \[args\.\.\.\] or --url <url>/);
    const noConnection = cli([
      'mcp-proxy',
      '--requester-email',
      'a@example.com',
      '--',
      process.execPath,
      FIXTURE,
    ]);
    expect(noConnection.code).toBe(4);
    expect(noConnection.err).toMatch(/COUNTERSIGN_URL .* and COUNTERSIGN_SECRET/);
    const badEmail = cli(['mcp-proxy', '--requester-email', 'not-an-email', '--', 'x'], conn);
    expect(badEmail.code).toBe(4);
    expect(badEmail.err).toMatch(/"not-an-email" is not valid/);
  });

  it('mcp checks its numbers and prints its help', () => {
    const conn = { COUNTERSIGN_URL: 'http://127.0.0.1:9', COUNTERSIGN_SECRET: SECRET };
    const bad = cli(['mcp', '--poll-seconds', '99'], conn);
    expect(bad.code).toBe(4);
    expect(bad.err).toMatch(/--poll-seconds must be a whole number from 1 to 55/);
    const help = cli(['mcp', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/request_approval, wait_for_decision, get_request, cancel_request/);
    const proxyHelp = cli(['mcp-proxy', '--help']);
    expect(proxyHelp.out).toMatch(/mcp\.<name>\.<tool>/);
  });

  it('mcp-proxy reports an upstream command that cannot start', () => {
    const r = cli(
      ['mcp-proxy', '--requester-email', 'a@example.com', '--', 'countersign-no-such-command-xyz'],
      { COUNTERSIGN_URL: 'http://127.0.0.1:9', COUNTERSIGN_SECRET: SECRET },
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot start the upstream MCP server countersign-no-such-command-xyz: .*ENOENT/);
  });
});
