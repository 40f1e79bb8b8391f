import { z } from 'zod';
import { createRequestSchema } from '../client/request-schema.js';

/**
 * The input schemas and descriptions of `countersign mcp`'s tools. The request fields are the
 * API's own zod schema (same validators, same limits), given descriptions a model can act on.
 */

/** MCP clients drop a call after about 60 s, so no tool holds one longer than this. */
export const MAX_WAIT_SECONDS = 55;
export const DEFAULT_WAIT_SECONDS = 45;

const waitSeconds = z
  .int()
  .min(0)
  .max(MAX_WAIT_SECONDS)
  .default(DEFAULT_WAIT_SECONDS)
  .describe(
    `Seconds to wait for a decision before answering (0-${MAX_WAIT_SECONDS}, default ${DEFAULT_WAIT_SECONDS}). ` +
      'If the request is still pending then, the answer says so; call wait_for_decision to keep waiting.',
  );

const requestId = z
  .string()
  .min(1)
  .max(100)
  .describe('The request id ("req_..."), as returned by request_approval.');

const s = createRequestSchema.shape;

/** request_approval's input: every field of `POST /api/v1/requests`, plus wait_seconds and idempotency_key. */
export const requestApprovalInput = createRequestSchema.extend({
  action: s.action.describe(
    'What kind of action this is, as a short dotted name of a-z 0-9 . _ : - (e.g. "db.export", "deploy.production", "iam.role.attach"). Policy rules match on it.',
  ),
  title: s.title.describe('One line a reviewer reads first: what you want to do, to what (max 150 chars).'),
  requester: s.requester.describe(
    'The human you act for and who is accountable: {"email": "..."} or {"slack_user_id": "U..."}.',
  ),
  summary: s.summary.describe(
    'Why, and what exactly will happen (Slack mrkdwn, max 3000 chars). Include what a reviewer needs to decide.',
  ),
  resource: s.resource.describe('What the action touches, e.g. a database, bucket, repository or host.'),
  environment: s.environment.describe('Where, e.g. "production" or "staging".'),
  risk: s.risk.describe('How much harm a mistake could do: low, medium (default), high or critical.'),
  context: s.context.describe('Up to 20 extra facts shown on the card, as key → string/number/boolean.'),
  diff: s.diff.describe('A unified diff of the change, if there is one; reviewers see it on the card.'),
  links: s.links.describe('Up to 5 links ({text, url}) for reviewers, e.g. a ticket or a pull request.'),
  approvers: s.approvers.describe(
    'Optional: only these Slack users (U...) or user groups (S...) may approve. Can only narrow the policy.',
  ),
  min_approvals: s.min_approvals.describe('How many different people must approve (1-10, default 1).'),
  ttl_seconds: s.ttl_seconds.describe(
    'How long reviewers have to decide before the request expires (10-2592000 s, default 3600).',
  ),
  callback_url: s.callback_url.describe(
    'Optional URL the server POSTs the outcome to (must be allowed by the server).',
  ),
  wait_seconds: waitSeconds,
  idempotency_key: z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1-200 printable ASCII characters without spaces')
    .optional()
    .describe(
      'Any unique string for this one action (e.g. your task id). Sending the same key with the same fields again returns the same request instead of posting a second card; use it when retrying after an error.',
    ),
});

/** The same without `requester`, when `countersign mcp` was started for one human (--requester-email). */
export const requestApprovalInputFixed = requestApprovalInput.omit({ requester: true });

export const waitForDecisionInput = z.strictObject({ id: requestId, wait_seconds: waitSeconds });
export const getRequestInput = z.strictObject({ id: requestId });
export const cancelRequestInput = z.strictObject({
  id: requestId,
  reason: z.string().max(500).optional().describe('Why the request is withdrawn (shown on the card).'),
});

/** Permission-prompt hooks send `{tool_name, input}` and sometimes more (tool_use_id, ...): extra keys are ignored. */
export const approvalPromptInput = z.object({
  tool_name: z.string().min(1).max(200).describe('The tool the agent wants to use, e.g. "Bash".'),
  input: z.record(z.string(), z.unknown()).describe('The exact input the agent wants to call the tool with.'),
  tool_use_id: z.string().max(200).optional().describe('The agent’s id for this tool use, if it has one.'),
});

const OUTCOMES =
  'The answer is the request object (JSON). Its "status" tells you what to do: ' +
  '"approved": go ahead, doing exactly what the request describes. ' +
  '"pending": not decided yet: call wait_for_decision with its "id" (repeat while pending); never create a second request for the same action. ' +
  '"denied": do not perform the action; read "reason" and do not retry the same request unchanged (change the plan, or ask the user). ' +
  '"expired" or "cancelled": not approved; do not perform the action.';

export const DESCRIPTIONS = {
  request_approval:
    'Ask a human to approve a privileged or risky action BEFORE you perform it (deleting data, deploying, changing access, spending money, ...). ' +
    'A card appears in Slack; people approve or deny it there, and nobody may approve their own request. ' +
    `Waits up to wait_seconds (default ${DEFAULT_WAIT_SECONDS}) for the decision. ${OUTCOMES}`,
  wait_for_decision: `Wait up to wait_seconds (max ${MAX_WAIT_SECONDS}) for the decision on a request made with request_approval, then answer it. ${OUTCOMES}`,
  get_request: `Read a request's current state without waiting. ${OUTCOMES}`,
  cancel_request:
    'Withdraw a pending request you no longer need (for example, your plan changed). Answers the request object, status "cancelled". ' +
    'A request that was already decided stays as it is; the answer says so.',
  approval_prompt:
    'Permission-prompt hook for agent CLIs: asks a human in Slack whether the agent may use tool_name with input, waits for the decision, ' +
    'and answers {"behavior":"allow","updatedInput":{...}} or {"behavior":"deny","message":"..."}. ' +
    'Configured as the permission prompt tool of an agent; a model should use request_approval instead.',
} as const;

export const INSTRUCTIONS =
  'Countersign asks humans in Slack to approve privileged actions. Before any action that could cause harm or that the user ' +
  'has asked to be approved, call request_approval and act only once its status is "approved". While it is "pending", ' +
  'call wait_for_decision with its id. When it is "denied", read the reason and do not retry the same request unchanged.';
