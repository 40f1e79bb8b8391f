import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CallToolResult, CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRequestSchema } from '../../src/core/request-schema.js';
import { AGENT_SECRET, type Harness, PEOPLE, startHarness } from '../support/harness.js';
import { CLI, type Connected, connectStdio, firstText, pendingCard, tempDir } from '../support/mcp.js';
import { cardOf, click, submitDeny, waitFor } from '../support/slack-user.js';

// `countersign mcp` (the built CLI) driven by the MCP SDK's own client, against the real server.

const POLICY = `version: 1
rules:
  - name: no-drops
    match: { action: "db.drop*" }
    outcome: deny
`;

let h: Harness;
const tmp = tempDir('countersign-mcp-ask-');
const open: Connected[] = [];
const used = new Set<string>();

beforeAll(async () => {
  h = await startHarness({ env: { COUNTERSIGN_POLICY: tmp.file('policy.yml', POLICY) } });
});
afterEach(async () => {
  for (const c of open.splice(0)) await c.client.close().catch(() => {});
});
afterAll(async () => {
  await h.stop();
  tmp.cleanup();
});

const env = () => ({
  PATH: process.env.PATH ?? '',
  COUNTERSIGN_URL: h.server.url,
  COUNTERSIGN_SECRET: AGENT_SECRET,
});

async function ask(args: string[] = ['--requester-email', PEOPLE.alice.email]): Promise<Connected> {
  const c = await connectStdio(process.execPath, [CLI, 'mcp', ...args], env());
  open.push(c);
  return c;
}

type Obj = Record<string, unknown>;

/** Calls a tool and checks the answer's shape: the request object as JSON text and as structured content. */
async function callForRequest(
  c: Connected,
  name: string,
  args: Obj,
): Promise<{ request: Obj; next: string }> {
  const result = (await c.client.callTool({ name, arguments: args })) as CallToolResult;
  expect(result.isError ?? false, JSON.stringify(result)).toBe(false);
  const request = JSON.parse(firstText(result)) as Obj;
  expect(result.structuredContent).toEqual(request);
  const second = result.content[1];
  return { request, next: second?.type === 'text' ? second.text : '' };
}

const body = (over: Obj = {}) => ({
  action: 'db.export',
  title: 'Export the customers table',
  summary: 'For the quarterly report',
  risk: 'high',
  ...over,
});

describe('countersign mcp tools', () => {
  it('lists five tools whose request fields are the API schema, plus wait_seconds and idempotency_key', async () => {
    const c = await ask();
    const { tools } = await c.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      ['approval_prompt', 'cancel_request', 'get_request', 'request_approval', 'wait_for_decision'].sort(),
    );
    const schema = tools.find((t) => t.name === 'request_approval')?.inputSchema as {
      properties: Record<string, Obj>;
      required?: string[];
    };
    const api = z.toJSONSchema(createRequestSchema, { io: 'input', target: 'draft-7' }) as {
      properties: Record<string, Obj>;
    };
    // Fixed requester: it is not an argument; every other API field is, with the API's limits.
    const apiFields = Object.keys(api.properties).filter((k) => k !== 'requester');
    expect(Object.keys(schema.properties).sort()).toEqual(
      [...apiFields, 'idempotency_key', 'wait_seconds'].sort(),
    );
    for (const field of apiFields) {
      const { description: _d, ...limits } = schema.properties[field] as Obj;
      expect(limits, field).toEqual(api.properties[field]);
      expect(_d, `${field} has a description`).toEqual(expect.any(String));
    }
    expect(schema.properties.wait_seconds).toMatchObject({ type: 'integer', maximum: 55, default: 45 });
    expect(schema.required?.sort()).toEqual(['action', 'title']);
    for (const t of tools) expect(t.description?.length ?? 0).toBeGreaterThan(80);
    expect(tools.find((t) => t.name === 'request_approval')?.description).toMatch(
      /pending.*wait_for_decision/s,
    );
    expect(tools.find((t) => t.name === 'request_approval')?.description).toMatch(
      /denied.*reason.*not retry/s,
    );
  });

  it('asks the requester as an argument when started without --requester-email', async () => {
    const c = await ask([]);
    const { tools } = await c.client.listTools();
    const schema = tools.find((t) => t.name === 'request_approval')?.inputSchema as { required?: string[] };
    expect(schema.required).toContain('requester');
    const { request } = await callForRequest(c, 'request_approval', {
      ...body(),
      requester: { email: PEOPLE.carol.email },
      wait_seconds: 0,
    });
    expect(request.requester).toEqual({ email: PEOPLE.carol.email });
    const prompt = (await c.client.callTool({
      name: 'approval_prompt',
      arguments: { tool_name: 'Bash', input: { command: 'ls' } },
    })) as CallToolResult;
    expect(JSON.parse(firstText(prompt))).toMatchObject({ behavior: 'deny' });
    expect(firstText(prompt)).toMatch(/--requester-email/);
  });

  it('request_approval → pending with its id and how to continue; wait_for_decision waits in chunks until approved', async () => {
    const c = await ask();
    const first = await callForRequest(c, 'request_approval', { ...body(), wait_seconds: 1 });
    expect(first.request).toMatchObject({
      status: 'pending',
      requester: { email: PEOPLE.alice.email },
      client: 'agent',
    });
    const id = first.request.id as string;
    expect(first.next).toMatch(/Still pending after waiting 1 s/);
    expect(first.next).toContain(`wait_for_decision with {"id": "${id}"}`);
    await waitFor(() => cardOf(h, id), 'the card');
    used.add(id);

    const again = await callForRequest(c, 'wait_for_decision', { id, wait_seconds: 1 });
    expect(again.request.status).toBe('pending');
    expect(again.next).toMatch(/wait_for_decision/);

    const waiting = callForRequest(c, 'wait_for_decision', { id, wait_seconds: 55 });
    await click(h, PEOPLE.bob.id, id, 'approve');
    const decided = await waiting;
    expect(decided.request).toMatchObject({ id, status: 'approved' });
    expect(decided.next).toMatch(/approved by UBOB/);

    const read = await callForRequest(c, 'get_request', { id });
    expect(read.request).toMatchObject({ id, status: 'approved' });
  });

  it('tells the model a denial, its reason, and not to retry unchanged', async () => {
    const c = await ask();
    const { request } = await callForRequest(c, 'request_approval', { ...body(), wait_seconds: 0 });
    const id = request.id as string;
    await waitFor(() => cardOf(h, id), 'the card');
    used.add(id);
    await click(h, PEOPLE.bob.id, id, 'deny');
    await submitDeny(h, PEOPLE.bob.id, id, 'Not during the audit');
    const decided = await callForRequest(c, 'wait_for_decision', { id, wait_seconds: 30 });
    expect(decided.request).toMatchObject({ status: 'denied', reason: 'Not during the audit' });
    expect(decided.next).toMatch(/denied by UBOB: "Not during the audit"/);
    expect(decided.next).toMatch(/do not retry the same request unchanged/);
  });

  it('cancel_request withdraws a pending request; the same idempotency_key returns the same request', async () => {
    const c = await ask();
    const args = { ...body({ title: 'Rotate the API keys' }), wait_seconds: 0, idempotency_key: 'task-42' };
    const one = await callForRequest(c, 'request_approval', args);
    const two = await callForRequest(c, 'request_approval', args);
    expect(two.request.id).toBe(one.request.id);
    const id = one.request.id as string;
    used.add(id);
    const cancelled = await callForRequest(c, 'cancel_request', { id, reason: 'plan changed' });
    expect(cancelled.request).toMatchObject({ id, status: 'cancelled', reason: 'plan changed' });
    const decided = await callForRequest(c, 'get_request', { id });
    expect(decided.request.status).toBe('cancelled');
  });

  it('answers bad input and policy refusals as tool errors a model can act on', async () => {
    const c = await ask();
    const bad = (await c.client.callTool({
      name: 'request_approval',
      arguments: { ...body({ action: 'DB Export' }), wait_seconds: 99 },
    })) as CallToolResult;
    expect(bad.isError).toBe(true);
    expect(firstText(bad)).toMatch(/action/);
    expect(firstText(bad)).toMatch(/wait_seconds/);
    const refused = (await c.client.callTool({
      name: 'request_approval',
      arguments: body({ action: 'db.drop_table' }),
    })) as CallToolResult;
    expect(refused.isError).toBe(true);
    expect(firstText(refused)).toMatch(/policy rule "no-drops"/);
    const missing = (await c.client.callTool({
      name: 'get_request',
      arguments: { id: 'req_NOPE' },
    })) as CallToolResult;
    expect(missing.isError).toBe(true);
    expect(firstText(missing)).toMatch(/no such request/);
  });
});

describe('approval_prompt', () => {
  const input = {
    command: 'rm -rf build/',
    description: 'clean the build ✓',
    nested: { n: 1.5, list: [null, 'x'] },
  };

  it('waits in chunks with progress notifications, then answers exactly {"behavior":"allow","updatedInput":...}', async () => {
    const c = await ask(['--requester-email', PEOPLE.alice.email, '--poll-seconds', '1']);
    const progress: { progress: number; message?: string }[] = [];
    const call = c.client.callTool(
      { name: 'approval_prompt', arguments: { tool_name: 'Bash', input, tool_use_id: 'toolu_01' } },
      CallToolResultSchema,
      { onprogress: (p) => void progress.push(p) },
    );
    const { card, id } = await pendingCard(h, 'agent.bash', used);
    expect(JSON.stringify(card.blocks)).toContain('rm -rf build/');
    // At least two chunks went by: the first report, then one after a poll found it still pending.
    await waitFor(
      () => progress.filter((p) => p.message?.includes(id)).length >= 3,
      'progress after several polls',
    );
    expect(progress.map((p) => p.progress)).toEqual(
      [...progress.map((p) => p.progress)].sort((a, b) => a - b),
    );
    await click(h, PEOPLE.bob.id, id, 'approve');
    const result = (await call) as CallToolResult;
    expect(firstText(result)).toBe(JSON.stringify({ behavior: 'allow', updatedInput: input }));
    expect(result.isError ?? false).toBe(false);
  });

  it('answers {"behavior":"deny","message":...} with the reason when denied', async () => {
    const c = await ask();
    const call = c.client.callTool({
      name: 'approval_prompt',
      arguments: { tool_name: 'Write', input: { file_path: '/etc/hosts' } },
    });
    const { id } = await pendingCard(h, 'agent.write', used);
    await click(h, PEOPLE.bob.id, id, 'deny');
    await submitDeny(h, PEOPLE.bob.id, id, 'Never touch /etc');
    const answer = JSON.parse(firstText(await call)) as Obj;
    expect(Object.keys(answer)).toEqual(['behavior', 'message']);
    expect(answer.behavior).toBe('deny');
    expect(answer.message).toMatch(/denied/);
    expect(answer.message).toContain('Never touch /etc');
  });

  it('fails closed: expiry is a deny', async () => {
    const c = await ask(['--requester-email', PEOPLE.alice.email, '--ttl', '60']);
    const call = c.client.callTool({
      name: 'approval_prompt',
      arguments: { tool_name: 'Edit', input: { file_path: 'a.ts' } },
    });
    const { id } = await pendingCard(h, 'agent.edit', used);
    expect(await h.server.approvals.expireDue(Date.now() + 61_000)).toBeGreaterThanOrEqual(1);
    const answer = JSON.parse(firstText(await call)) as Obj;
    expect(answer.behavior).toBe('deny');
    expect(answer.message).toMatch(/expired/);
    expect(answer.message).toContain(id);
  });

  it('a cancelled prompt cancels its request', async () => {
    const c = await ask();
    const abort = new AbortController();
    const call = c.client.callTool(
      {
        name: 'approval_prompt',
        arguments: { tool_name: 'WebFetch', input: { url: 'https://example.com' } },
      },
      CallToolResultSchema,
      { signal: abort.signal },
    );
    const { id } = await pendingCard(h, 'agent.webfetch', used);
    abort.abort();
    await expect(call).rejects.toThrow();
    const api = h.api.withSecret(AGENT_SECRET);
    await waitFor(
      async () => (await api.request(id)).body.status === 'cancelled',
      'the request to be cancelled',
    );
  });
});

/** POSTs with a forged Host header (as a DNS-rebinding page would send), returning the status. */
function statusWithHost(url: string, token: string, host: string, payload: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: { host, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('countersign mcp --http', () => {
  it('serves Streamable HTTP on loopback and refuses requests without the bearer token', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'mcp', '--http', '0', '--requester-email', PEOPLE.alice.email],
      {
        env: env(),
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    try {
      const url = await waitFor(
        () => /at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(err)?.[1],
        `the URL (stderr: ${err})`,
      );
      const token = await waitFor(() => /bearer token: (\S+)/.exec(err)?.[1], 'the token');
      const init = {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      };
      const post = (headers: Record<string, string>) =>
        fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...headers,
          },
          body: JSON.stringify(init),
        });
      const none = await post({});
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await post({ authorization: `Bearer ${token}x` })).status).toBe(401);
      expect(await statusWithHost(url, token, 'evil.example', JSON.stringify(init))).toBe(403);

      const client = new Client({ name: 'http-test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      try {
        const { tools } = await client.listTools();
        expect(tools).toHaveLength(5);
        const result = (await client.callTool({
          name: 'request_approval',
          arguments: { ...body({ title: 'Over HTTP' }), wait_seconds: 0 },
        })) as CallToolResult;
        const request = JSON.parse(firstText(result)) as Obj;
        expect(request).toMatchObject({ status: 'pending', requester: { email: PEOPLE.alice.email } });
        used.add(request.id as string);
      } finally {
        await client.close();
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
  });
});
