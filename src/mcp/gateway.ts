import { randomUUID } from 'node:crypto';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { Countersign } from '../client/index.js';
import { type RequestSettings, toolCallRequest } from './call-request.js';
import { type GateOutcome, gateCall } from './gate.js';
import { mcpAction } from './names.js';
import { ToolCatalog } from './tool-catalog.js';
import type { Upstream } from './upstream.js';
import { policyRefusalText, refusalText } from './words.js';

export interface GatewayOptions {
  /** Toward the agent (its MCP client): the gateway is its server. */
  agent: Transport;
  upstream: Upstream;
  /** NAME in `mcp.<NAME>.<tool>`. */
  server: string;
  settings: RequestSettings;
  countersign: Countersign;
  pollSeconds: number;
  log: (line: string) => void;
}

/** Abort reasons of held calls, recorded as the reason their requests were cancelled. */
const UPSTREAM_GONE = 'The upstream MCP server stopped before the call could run.';
const SHUTTING_DOWN = 'The MCP client disconnected from the gateway.';
/** How long a listing of the gateway's own may take. */
const OWN_REQUEST_MS = 15_000;

type ToolCallParams = {
  name?: unknown;
  arguments?: unknown;
  _meta?: { progressToken?: string | number };
} & Record<string, unknown>;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The MCP gateway: relays every JSON-RPC message between the agent and the upstream server
 * unchanged, except `tools/call`, which is held until a human approves it in Countersign and then
 * forwarded once with exactly the approved arguments (or answered with `isError` when it is not
 * approved), and `notifications/cancelled` for a held call, which cancels its approval request.
 */
export class Gateway {
  private readonly held = new Map<RequestId, AbortController>();
  private readonly active = new Set<Promise<void>>();
  /** Agent requests forwarded upstream and not yet answered, by id, with their method. */
  private readonly forwarded = new Map<RequestId, string>();
  private readonly own = new Map<RequestId, (message: JSONRPCMessage | Error) => void>();
  private readonly catalog = new ToolCatalog();
  private gone: string | null = null;
  private closing = false;
  private finished: Promise<number> | null = null;
  private exit: (code: number) => void = () => {};
  /** Settles with the exit code once the gateway has shut down. */
  readonly done = new Promise<number>((resolve) => {
    this.exit = resolve;
  });

  constructor(private readonly o: GatewayOptions) {}

  async start(): Promise<void> {
    const up = this.o.upstream.transport;
    up.onmessage = (m) => this.fromUpstream(m);
    up.onerror = (err) => this.o.log(`upstream ${this.o.upstream.label}: ${err.message}`);
    up.onclose = () => this.upstreamClosed();
    this.o.agent.onmessage = (m) => this.fromAgent(m);
    this.o.agent.onerror = (err) => this.o.log(`client connection: ${err.message}`);
    this.o.agent.onclose = () => void this.shutdown(0);
    await up.start();
    await this.o.agent.start();
  }

  /** Cancels held calls (their requests are withdrawn), stops the upstream and closes both sides. */
  shutdown(code: number): Promise<number> {
    this.finished ??= (async () => {
      this.closing = true;
      for (const controller of this.held.values()) controller.abort(SHUTTING_DOWN);
      await Promise.race([
        Promise.allSettled([...this.active]),
        new Promise((r) => setTimeout(r, 10_000).unref()),
      ]);
      await this.o.upstream.transport.close().catch(() => {});
      await this.o.agent.close().catch(() => {});
      this.exit(code);
      return code;
    })();
    return this.finished;
  }

  private fromAgent(m: JSONRPCMessage): void {
    if (isJSONRPCRequest(m)) {
      if (this.gone !== null) this.replyError(m.id, ErrorCode.ConnectionClosed, this.gone);
      else if (this.held.has(m.id) || this.forwarded.has(m.id)) {
        this.replyError(
          m.id,
          ErrorCode.InvalidRequest,
          `request id ${JSON.stringify(m.id)} is already in use`,
        );
      } else if (m.method === 'tools/call') this.track(this.gatedCall(m));
      else this.forward(m);
      return;
    }
    if (isJSONRPCNotification(m) && m.method === 'notifications/cancelled') {
      const id = (m.params as { requestId?: RequestId } | undefined)?.requestId;
      const controller = id === undefined ? undefined : this.held.get(id);
      if (controller) {
        const why = (m.params as { reason?: unknown }).reason;
        const detail = typeof why === 'string' && why.trim() !== '' ? ` (${why.trim().slice(0, 300)})` : '';
        controller.abort(`The MCP client cancelled the tool call${detail}.`);
        return;
      }
      // A forwarded request the agent gave up on: the upstream will not answer it.
      if (id !== undefined) this.forwarded.delete(id);
    }
    if (this.gone === null) this.toUpstream(m);
  }

  private fromUpstream(m: JSONRPCMessage): void {
    if ((isJSONRPCResultResponse(m) || isJSONRPCErrorResponse(m)) && m.id !== undefined) {
      const mine = this.own.get(m.id);
      if (mine) {
        this.own.delete(m.id);
        mine(m);
        return;
      }
      const method = this.forwarded.get(m.id);
      this.forwarded.delete(m.id);
      if (isJSONRPCResultResponse(m) && method === 'tools/list') this.catalog.add(m.result);
      if (isJSONRPCResultResponse(m) && method === 'initialize') {
        const version = (m.result as { protocolVersion?: unknown }).protocolVersion;
        if (typeof version === 'string') this.o.upstream.setProtocolVersion(version);
      }
    } else if (isJSONRPCNotification(m) && m.method === 'notifications/tools/list_changed') {
      this.catalog.clear();
    }
    this.toAgent(m);
  }

  private forward(m: JSONRPCRequest): void {
    this.forwarded.set(m.id, m.method);
    this.o.upstream.transport.send(m).catch((err: unknown) => {
      if (!this.forwarded.delete(m.id)) return;
      this.replyError(
        m.id,
        ErrorCode.ConnectionClosed,
        `the upstream MCP server ${this.o.upstream.label} could not be reached: ${(err as Error).message}`,
      );
    });
  }

  private async gatedCall(m: JSONRPCRequest): Promise<void> {
    const params = (m.params ?? {}) as ToolCallParams;
    const args = params.arguments ?? {};
    if (typeof params.name !== 'string' || !isPlainObject(args)) {
      return this.replyError(
        m.id,
        ErrorCode.InvalidParams,
        'tools/call needs a tool "name" and an "arguments" object',
      );
    }
    const tool = params.name;
    const controller = new AbortController();
    this.held.set(m.id, controller);
    let outcome: GateOutcome;
    try {
      const description = await this.catalog.describe(tool, () => this.listAllTools());
      if (controller.signal.aborted) return this.afterAbandon(m, controller);
      const sent = toolCallRequest(this.o.server, tool, description, args, this.o.settings);
      const token = params._meta?.progressToken;
      outcome = await gateCall(sent, {
        countersign: this.o.countersign,
        pollSeconds: this.o.pollSeconds,
        signal: controller.signal,
        cancelReason: 'The MCP client cancelled the tool call.',
        log: this.o.log,
        onPending: (request, polls) => {
          if (token === undefined) return;
          const link = request.slack_url ? ` (${request.slack_url})` : '';
          this.toAgent({
            jsonrpc: '2.0',
            method: 'notifications/progress',
            params: {
              progressToken: token,
              progress: polls,
              message: `Waiting for a human to approve ${tool} in Slack: request ${request.id}${link}`,
            },
          });
        },
      });
      if (outcome.kind !== 'approved') {
        if (outcome.kind === 'abandoned') return this.afterAbandon(m, controller);
        return this.reply(m.id, {
          content: [{ type: 'text', text: this.refusal(tool, outcome) }],
          isError: true,
        });
      }
    } finally {
      this.held.delete(m.id);
    }
    if (this.gone !== null) return this.replyError(m.id, ErrorCode.ConnectionClosed, this.gone);
    if (this.closing) return;
    this.forward({ ...m, params: { ...params, arguments: outcome.arguments } });
  }

  /** A held call given up: silence when the agent cancelled it (as MCP asks), an error otherwise. */
  private afterAbandon(m: JSONRPCRequest, controller: AbortController): void {
    if (controller.signal.reason === UPSTREAM_GONE && this.gone !== null) {
      this.replyError(m.id, ErrorCode.ConnectionClosed, this.gone);
    }
  }

  private refusal(tool: string, outcome: Exclude<GateOutcome, { kind: 'approved' | 'abandoned' }>): string {
    switch (outcome.kind) {
      case 'refused':
        return outcome.request.status === 'approved'
          ? `The call to ${tool} did not run: ${outcome.why}.`
          : refusalText(tool, outcome.request);
      case 'policy_denied':
        return policyRefusalText(tool, mcpAction(this.o.server, tool), outcome.rule);
      case 'failed':
        return `The call to ${tool} did not run: ${outcome.message}. Nothing was approved.`;
    }
  }

  /** Reads every page of the upstream's tool list with requests of the gateway's own. */
  private async listAllTools(): Promise<void> {
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const answer = await this.ownRequest('tools/list', cursor === undefined ? {} : { cursor });
      if (!isJSONRPCResultResponse(answer)) return;
      this.catalog.add(answer.result);
      const next = (answer.result as { nextCursor?: unknown }).nextCursor;
      if (typeof next !== 'string') return;
      cursor = next;
    }
  }

  private ownRequest(method: string, params: Record<string, unknown>): Promise<JSONRPCMessage> {
    const id = `countersign-gateway-${randomUUID()}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(new Error(`${method}: no answer`)), OWN_REQUEST_MS);
      const settle = (m: JSONRPCMessage | Error) => {
        clearTimeout(timer);
        this.own.delete(id);
        if (m instanceof Error) reject(m);
        else resolve(m);
      };
      this.own.set(id, settle);
      this.o.upstream.transport.send({ jsonrpc: '2.0', id, method, params }).catch(settle);
    });
  }

  private upstreamClosed(): void {
    if (this.closing || this.gone !== null) return;
    const up = this.o.upstream;
    this.gone = `the upstream MCP server (${up.label}) stopped; ${up.lastWords()}`;
    this.o.log(this.gone);
    for (const id of this.forwarded.keys()) this.replyError(id, ErrorCode.ConnectionClosed, this.gone);
    this.forwarded.clear();
    for (const settle of [...this.own.values()]) settle(new Error(this.gone));
    for (const controller of this.held.values()) controller.abort(UPSTREAM_GONE);
    void this.shutdown(1);
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => this.o.log(`tools/call failed: ${(err as Error).message}`));
    this.active.add(tracked);
    void tracked.finally(() => this.active.delete(tracked));
  }

  private reply(id: RequestId, result: Record<string, unknown>): void {
    this.toAgent({ jsonrpc: '2.0', id, result });
  }

  private replyError(id: RequestId, code: number, message: string): void {
    this.toAgent({ jsonrpc: '2.0', id, error: { code, message } });
  }

  private toAgent(m: JSONRPCMessage): void {
    this.o.agent
      .send(m)
      .catch((err: unknown) => this.o.log(`could not answer the client: ${(err as Error).message}`));
  }

  private toUpstream(m: JSONRPCMessage): void {
    this.o.upstream.transport
      .send(m)
      .catch((err: unknown) => this.o.log(`could not reach the upstream: ${(err as Error).message}`));
  }
}
