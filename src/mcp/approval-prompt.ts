import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Countersign, Requester, Risk } from '../client/index.js';
import { promptRequest } from './call-request.js';
import { gateCall } from './gate.js';
import { policyRefusalText, refusalText } from './words.js';

export interface PromptOptions {
  countersign: Countersign;
  requester: Requester | null;
  prompt: { ttlSeconds: number; risk: Risk };
  pollSeconds: number;
  log: (line: string) => void;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** The hook's answer: its first (only) text item is exactly the allow/deny JSON. */
function verdict(
  value: { behavior: 'allow'; updatedInput: Record<string, unknown> } | { behavior: 'deny'; message: string },
): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

const deny = (message: string) => verdict({ behavior: 'deny', message });

/**
 * `approval_prompt`: asks a human whether the agent may use `tool_name` with `input`, waits for the
 * decision in chunks (reporting progress after each when the client gave a progress token) for as
 * long as the request lives, and answers allow with the approved input, or deny. Anything but an
 * approval of these exact bytes (expiry, cancellation, an error) is a deny.
 */
export async function approvalPrompt(
  args: { tool_name: string; input: Record<string, unknown>; tool_use_id?: string | undefined },
  extra: Extra,
  opts: PromptOptions,
): Promise<CallToolResult> {
  const tool = args.tool_name;
  if (opts.requester === null) {
    return deny(
      `Not allowed: countersign mcp was started without a requester, so nobody can be asked to approve ${tool}. ` +
        'Start it with --requester-email (or set COUNTERSIGN_REQUESTER_EMAIL).',
    );
  }
  const sent = promptRequest(tool, args.input, { requester: opts.requester, ...opts.prompt });
  const token = extra._meta?.progressToken;
  try {
    const outcome = await gateCall(sent, {
      countersign: opts.countersign,
      pollSeconds: opts.pollSeconds,
      // The agent's id for this tool use keys the request: a repeated prompt finds it, not a second card.
      ...(args.tool_use_id && /^[\x21-\x7e]{1,200}$/.test(args.tool_use_id)
        ? { idempotencyKey: `prompt-${args.tool_use_id}` }
        : {}),
      signal: extra.signal,
      cancelReason: 'The agent stopped waiting for this permission prompt.',
      log: opts.log,
      onPending: (request, polls) => {
        if (token === undefined) return;
        const link = request.slack_url ? ` (${request.slack_url})` : '';
        extra
          .sendNotification({
            method: 'notifications/progress',
            params: {
              progressToken: token,
              progress: polls,
              message: `Waiting for a human to approve ${tool} in Slack: request ${request.id}${link}`,
            },
          })
          .catch((err: unknown) => opts.log(`could not send progress: ${(err as Error).message}`));
      },
    });
    switch (outcome.kind) {
      case 'approved':
        return verdict({ behavior: 'allow', updatedInput: outcome.arguments });
      case 'refused':
        return deny(
          outcome.request.status === 'approved'
            ? `Not allowed: ${outcome.why}. The tool must not run.`
            : refusalText(tool, outcome.request),
        );
      case 'policy_denied':
        return deny(policyRefusalText(tool, sent.action, outcome.rule));
      case 'abandoned':
        return deny(
          `Not allowed: the permission prompt for ${tool} was cancelled before anyone approved it.`,
        );
      case 'failed':
        return deny(`Not allowed: ${outcome.message}. Nobody approved ${tool}, so it must not run.`);
    }
  } catch (err) {
    return deny(`Not allowed: the approval could not be obtained (${(err as Error).message}).`);
  }
}
