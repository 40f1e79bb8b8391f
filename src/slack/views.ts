import type { App, ViewSubmitAction } from '@slack/bolt';
import { DENY_REASON_ACTION, DENY_REASON_BLOCK, VIEW_DENY } from '../../blocks/ids.js';
import { redactText } from '../core/redact.js';
import { textProblem } from '../core/text-checks.js';
import { castVote, type VoteDeps } from './cast-vote.js';

/** The deny modal's submission: the reason is required; a refusal is shown inside the modal. */
export function registerViews(app: App, deps: VoteDeps): void {
  app.view<ViewSubmitAction>(VIEW_DENY, async ({ ack, body, view }) => {
    const requestId = view.private_metadata;
    const reason = view.state.values[DENY_REASON_BLOCK]?.[DENY_REASON_ACTION]?.value?.trim() ?? '';
    const problem = textProblem(reason);
    if (problem) {
      await ack({
        response_action: 'errors',
        errors: {
          [DENY_REASON_BLOCK]: `The reason ${problem.replace(/; send valid UTF-8 text$/, '')}; please type it again.`,
        },
      });
      return;
    }
    const request = await deps.approvals.requests.get(requestId);
    if (reason === '' && (request?.denyReasonRequired ?? true)) {
      await ack({
        response_action: 'errors',
        errors: { [DENY_REASON_BLOCK]: 'Please say why you deny this request.' },
      });
      return;
    }
    const actor = {
      id: body.user.id,
      teamId: body.user.team_id ?? body.team?.id ?? null,
      enterpriseId: body.enterprise?.id ?? null,
    };
    // Masked where it arrives, before it is stored, posted in the thread, sent back or audited.
    const result = await castVote(deps, requestId, actor, {
      decision: 'deny',
      reason: reason === '' ? null : redactText(reason).text,
    });
    if (result.ok) await ack();
    else await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK]: result.text } });
  });
}
