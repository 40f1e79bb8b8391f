import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type Countersign, CountersignError, type Requester, type RequestObject } from '../client/index.js';
import { approvalPrompt } from './approval-prompt.js';
import {
  approvalPromptInput,
  cancelRequestInput,
  DESCRIPTIONS,
  getRequestInput,
  INSTRUCTIONS,
  requestApprovalInput,
  requestApprovalInputFixed,
  waitForDecisionInput,
} from './ask-tools.js';
import type { RequestSettings } from './call-request.js';
import { serverVersion } from './server-info.js';
import { waitChunk } from './wait-chunk.js';
import { nextStep } from './words.js';

/** The longest a request_approval call waits for the request to be created (MCP clients give up at ~60 s). */
const CREATE_DEADLINE_MS = 50_000;

export interface AskServerOptions {
  countersign: Countersign;
  /** The human the agent acts for (--requester-email); null: request_approval asks for `requester`. */
  requester: Requester | null;
  /** For approval_prompt: TTL and risk of its requests. */
  prompt: Omit<RequestSettings, 'requester'>;
  /** Seconds per long poll while approval_prompt waits; progress is reported after each. */
  pollSeconds: number;
  log: (line: string) => void;
}

/** The request object as the answer: JSON text first, then what to do next; and as structured content. */
function answer(request: RequestObject, next: string): CallToolResult {
  return {
    content: [
      { type: 'text', text: JSON.stringify(request) },
      { type: 'text', text: next },
    ],
    structuredContent: request as unknown as Record<string, unknown>,
  };
}

function failure(err: unknown, what: string): CallToolResult {
  let text: string;
  if (err instanceof CountersignError && err.code === 'denied_by_policy') {
    const rule = (err.body as { rule?: unknown } | null)?.rule;
    text =
      `Refused by policy rule "${String(rule)}": this action is not allowed at all, so no request was made. ` +
      'Do not perform it, and do not ask again with the same action; tell the user.';
  } else if (err instanceof CountersignError && err.code === 'not_found') {
    text = `${what}: no such request for this client. Use the "id" that request_approval returned.`;
  } else if (err instanceof CountersignError && err.code === 'invalid_request') {
    text = `${what}: the server refused the request; fix these fields and call again:\n${err.issues
      .map((i) => `- ${i.path}: ${i.message}`)
      .join('\n')}`;
  } else if (err instanceof CountersignError && err.code === 'timeout') {
    text = `${what}: ${err.message}. The decision is unknown: call ${what} again, and do not perform the action until it says approved.`;
  } else if (err instanceof CountersignError) {
    text = `${what} failed: ${err.message}. Nothing was approved; do not perform the action.`;
  } else {
    text = `${what} failed: ${(err as Error).message}. Nothing was approved; do not perform the action.`;
  }
  return { content: [{ type: 'text', text }], isError: true };
}

/** `countersign mcp`: the tools an agent uses to ask for approval itself. One instance per MCP session. */
export function createAskServer(opts: AskServerOptions): McpServer {
  const cs = opts.countersign;
  const server = new McpServer(
    { name: 'countersign', version: serverVersion() },
    { instructions: INSTRUCTIONS },
  );

  const requestHandler = async (input: Record<string, unknown>, signal: AbortSignal) => {
    const started = Date.now();
    const { wait_seconds, idempotency_key, ...fields } = input as {
      wait_seconds: number;
      idempotency_key?: string;
    } & Record<string, unknown>;
    const body = opts.requester === null ? fields : { ...fields, requester: opts.requester };
    // Always keyed, so that a call that ran out of time can be repeated without a second card.
    const key = idempotency_key ?? `mcp-${randomUUID()}`;
    let created: RequestObject;
    try {
      created = await cs.requestApproval(JSON.stringify(body), {
        idempotencyKey: key,
        signal: AbortSignal.any([signal, AbortSignal.timeout(CREATE_DEADLINE_MS)]),
      });
    } catch (err) {
      if (err instanceof CountersignError && err.code === 'aborted' && !signal.aborted) {
        return failure(
          new Error(
            `Countersign did not answer within ${CREATE_DEADLINE_MS / 1000} s. Call request_approval again with the same ` +
              `fields and "idempotency_key": "${key}": that returns this request if it was made, without a second card`,
          ),
          'request_approval',
        );
      }
      return failure(err, 'request_approval');
    }
    try {
      const request = await waitChunk(
        cs,
        created.id,
        wait_seconds * 1000 - (Date.now() - started),
        signal,
        created,
      );
      return answer(request, nextStep(request, request.status === 'pending' ? wait_seconds : null));
    } catch (err) {
      return answer(
        created,
        `${nextStep(created, null)} (Reading its state failed: ${(err as Error).message}.)`,
      );
    }
  };
  const annotations = { openWorldHint: true, idempotentHint: false, destructiveHint: false };
  if (opts.requester === null) {
    server.registerTool(
      'request_approval',
      { description: DESCRIPTIONS.request_approval, inputSchema: requestApprovalInput, annotations },
      (input, extra) => requestHandler(input, extra.signal),
    );
  } else {
    server.registerTool(
      'request_approval',
      { description: DESCRIPTIONS.request_approval, inputSchema: requestApprovalInputFixed, annotations },
      (input, extra) => requestHandler(input, extra.signal),
    );
  }

  server.registerTool(
    'wait_for_decision',
    {
      description: DESCRIPTIONS.wait_for_decision,
      inputSchema: waitForDecisionInput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ id, wait_seconds }, extra) => {
      try {
        const request = await waitChunk(cs, id, wait_seconds * 1000, extra.signal);
        return answer(request, nextStep(request, request.status === 'pending' ? wait_seconds : null));
      } catch (err) {
        return failure(err, 'wait_for_decision');
      }
    },
  );

  server.registerTool(
    'get_request',
    {
      description: DESCRIPTIONS.get_request,
      inputSchema: getRequestInput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ id }, extra) => {
      try {
        const request = await cs.get(id, { signal: extra.signal });
        return answer(request, nextStep(request, null));
      } catch (err) {
        return failure(err, 'get_request');
      }
    },
  );

  server.registerTool(
    'cancel_request',
    {
      description: DESCRIPTIONS.cancel_request,
      inputSchema: cancelRequestInput,
      annotations: { destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async ({ id, reason }, extra) => {
      try {
        const request = await cs.cancel(id, reason, { signal: extra.signal });
        return answer(request, `Request ${request.id} is cancelled; nobody can approve it any more.`);
      } catch (err) {
        if (err instanceof CountersignError && err.code === 'already_decided' && err.request) {
          const r = err.request;
          return answer(
            r,
            `Nothing was cancelled: request ${r.id} was already ${r.status}. ${nextStep(r, null)}`,
          );
        }
        return failure(err, 'cancel_request');
      }
    },
  );

  server.registerTool(
    'approval_prompt',
    {
      description: DESCRIPTIONS.approval_prompt,
      inputSchema: approvalPromptInput,
      annotations: { openWorldHint: true },
    },
    (input, extra) => approvalPrompt(input, extra, opts),
  );
  return server;
}
