import type { RequestObject } from '../client/index.js';

/**
 * What a model reads about a request: plain sentences that say what happened and what to do next.
 * Shared by `countersign mcp` (tool answers, approval_prompt) and the gateway's refusals.
 */

/** Who approved, e.g. "UBOB and UCAROL", or the policy rule that approved at once. */
function approvers(r: RequestObject): string {
  if (r.decided_by === 'policy') return `policy rule "${r.policy.rule ?? '(defaults)'}" (auto-approved)`;
  const ids = r.votes.filter((v) => v.decision === 'approve').map((v) => v.user_id);
  return ids.length > 0 ? ids.join(' and ') : (r.decided_by ?? 'a reviewer');
}

function denier(r: RequestObject): string {
  return r.votes.find((v) => v.decision === 'deny')?.user_id ?? r.decided_by ?? 'a reviewer';
}

const quoted = (reason: string | null) => (reason ? `"${reason}"` : '(no reason given)');

/** One sentence about a decided request: the outcome, who, and the reason. */
export function outcomeSentence(r: RequestObject): string {
  switch (r.status) {
    case 'approved':
      return `Request ${r.id} was approved by ${approvers(r)}.`;
    case 'denied':
      return `Request ${r.id} was denied by ${denier(r)}: ${quoted(r.reason)}.`;
    case 'expired':
      return `Request ${r.id} expired at ${r.expires_at}: nobody approved it in time.`;
    case 'cancelled': {
      const by = r.decided_by?.startsWith('client:')
        ? 'by the requesting client'
        : `by ${r.decided_by ?? 'an admin'}`;
      return `Request ${r.id} was cancelled ${by}${r.reason ? `: "${r.reason}"` : ''}.`;
    }
    case 'pending':
      return `Request ${r.id} is still pending: no decision yet.`;
  }
}

/** What the model should do next, given the request as it stands (for request_approval and friends). */
export function nextStep(r: RequestObject, waitedSeconds: number | null): string {
  const sentence = outcomeSentence(r);
  switch (r.status) {
    case 'pending': {
      const waited = waitedSeconds === null ? '' : ` after waiting ${waitedSeconds} s`;
      const link = r.slack_url ? ` Reviewers see it at ${r.slack_url}.` : '';
      return (
        `Still pending${waited}: no decision yet.${link} Call wait_for_decision with ` +
        `{"id": "${r.id}"} to keep waiting (repeat while it stays pending). Do not create a new request ` +
        'for the same action, and do not perform the action until the status is approved.'
      );
    }
    case 'approved':
      return `${sentence} You may now perform exactly the action this request describes, and nothing more.`;
    case 'denied':
      return (
        `${sentence} Do not perform the action. Read the reason; do not retry the same request unchanged. ` +
        'Change your plan to address the reason, or ask the user what to do.'
      );
    case 'expired':
      return `${sentence} Do not perform the action. Ask the user before requesting it again.`;
    case 'cancelled':
      return `${sentence} Do not perform the action.`;
  }
}

/** The text of a gateway refusal: a tool call that did not run, and why. */
export function refusalText(tool: string, r: RequestObject): string {
  const base = outcomeSentence(r);
  switch (r.status) {
    case 'denied':
      return (
        `The call to ${tool} was denied, so the tool did not run. ${base} ` +
        'Do not retry the same call unchanged: take the reason into account, or ask the user.'
      );
    case 'expired':
      return `The call to ${tool} was not approved in time (expired), so the tool did not run. ${base} Ask the user before trying again.`;
    case 'cancelled':
      return `The call to ${tool} was cancelled, so the tool did not run. ${base}`;
    default:
      return `The call to ${tool} was not approved (${r.status}), so the tool did not run. ${base}`;
  }
}

/** The text of a refusal by a policy `deny` rule (the API's 403). */
export function policyRefusalText(tool: string, action: string, rule: string): string {
  return (
    `The call to ${tool} was denied by policy rule "${rule}": the action ${action} is refused outright, ` +
    'so the tool did not run. Calling it again will be refused the same way; ask the user instead.'
  );
}
