import type { Refusal } from '../core/decide.js';

/** Plain words for each refusal, told privately to the person who clicked. */
export function refusalText(refusal: Refusal | 'identity_unavailable', status?: string): string {
  switch (refusal) {
    case 'requester':
      return 'You requested this change, so someone else has to approve it.';
    case 'not_approver':
      return 'You are not one of the approvers for this request, so your vote was not counted.';
    case 'already_voted':
      return 'You have already voted on this request; each person counts once.';
    case 'not_pending':
      return `This request has already been decided${status ? ` (${status})` : ''}; nothing was changed.`;
    case 'expired':
      return 'This request has expired: nobody decided before its deadline, so it can no longer be approved or denied.';
    case 'bot':
      return 'Bots and apps cannot vote on approval requests.';
    case 'guest':
      return 'Guest accounts cannot vote on approval requests.';
    case 'other_workspace':
      return 'Only members of the workspace where Countersign is installed (or of its Enterprise Grid organisation) can vote on approval requests; people from other workspaces, such as Slack Connect partners, cannot.';
    case 'deactivated':
      return 'Deactivated accounts cannot vote on approval requests.';
    case 'reason_required':
      return 'A reason is required to deny this request.';
    case 'identity_unavailable':
      return 'Countersign could not confirm who you are with Slack just now, so your vote was not recorded. Please try again in a moment.';
  }
}
