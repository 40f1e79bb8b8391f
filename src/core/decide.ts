import type { ApprovalRequest, ApproverSet, Clicker, Decision, Vote, Workspace } from './types.js';

export type Refusal =
  | 'not_pending'
  | 'expired'
  | 'bot'
  | 'guest'
  | 'other_workspace'
  | 'deactivated'
  | 'requester'
  | 'not_approver'
  | 'already_voted'
  | 'reason_required';

export type Outcome =
  | { ok: false; refusal: Refusal }
  | {
      ok: true;
      vote: { decision: Decision; reason: string | null };
      /** The status after this vote: still pending, or closed by it. */
      status: 'pending' | 'approved' | 'denied';
      /** Distinct people who have approved, counting this vote. */
      approvals: number;
    };

export type DecideRequest = Pick<
  ApprovalRequest,
  'status' | 'expiresAt' | 'requester' | 'requesterSlackId' | 'requesterEmail' | 'approvers' | 'minApprovals'
> & { denyReasonRequired: boolean };

/**
 * An email as one mailbox: trimmed, lower case, without a `+tag` in the local part, so
 * `A1+deploy@Example.com ` and `a1@example.com` are the same person. (Providers that ignore dots
 * in the local part are not folded: that is not true of mail systems in general.)
 */
export function normalizeEmail(email: string): string {
  const e = email.trim().toLowerCase();
  const at = e.lastIndexOf('@');
  if (at <= 0) return e;
  const plus = e.indexOf('+');
  return plus > 0 && plus < at ? `${e.slice(0, plus)}${e.slice(at)}` : e;
}

/**
 * Whether `clicker` is the requester: the same user ID, or the same email either way round,
 * compared normalised (`normalizeEmail`), so a `+tag` or a capital letter cannot get someone past
 * the rule when Slack does not know the requester's email.
 */
export function isRequester(request: DecideRequest, clicker: Pick<Clicker, 'userId' | 'email'>): boolean {
  const ids = [request.requester.slack_user_id, request.requesterSlackId].filter((x): x is string => !!x);
  if (ids.includes(clicker.userId)) return true;
  if (clicker.email === null || clicker.email.trim() === '') return false;
  const emails = [request.requester.email, request.requesterEmail]
    .filter((x): x is string => !!x && x.trim() !== '')
    .map(normalizeEmail);
  return emails.includes(normalizeEmail(clicker.email));
}

/**
 * Whether the clicker belongs to the installing workspace: the same team, or on Enterprise Grid
 * the same organisation. Unknown (null) never matches, and neither does anyone when the
 * workspace is not known (null): people of other workspaces (Slack Connect) are refused like guests.
 */
export function isMember(
  workspace: Workspace | null,
  clicker: Pick<Clicker, 'teamId' | 'enterpriseId'>,
): boolean {
  if (workspace === null) return false;
  if (workspace.enterpriseId !== null && clicker.enterpriseId === workspace.enterpriseId) return true;
  return workspace.teamId !== null && clicker.teamId === workspace.teamId;
}

function satisfies(set: ApproverSet, clicker: Pick<Clicker, 'userId' | 'groups'>): boolean {
  if (set.users.length === 0 && set.groups.length === 0) return true;
  return set.users.includes(clicker.userId) || set.groups.some((g) => clicker.groups.includes(g));
}

/** Whether the clicker may vote on this request: they must satisfy every approver set. */
export function isApprover(approvers: ApproverSet[], clicker: Pick<Clicker, 'userId' | 'groups'>): boolean {
  return approvers.every((set) => satisfies(set, clicker));
}

/**
 * The refusals that can be known from stored state alone, before asking Slack who clicked (used
 * to refuse at once instead of opening the deny dialog). `decide` remains the full rule.
 */
export function precheck(
  request: DecideRequest,
  votes: Pick<Vote, 'userId'>[],
  userId: string,
  now: number,
): Refusal | null {
  if (request.status !== 'pending') return 'not_pending';
  if (now >= request.expiresAt) return 'expired';
  if (isRequester(request, { userId, email: null })) return 'requester';
  if (votes.some((v) => v.userId === userId)) return 'already_voted';
  return null;
}

/**
 * The whole review rule, pure: given the request, its votes, the clicker, what they chose, the
 * time and the installing workspace, either a refusal with its reason or the vote and the status
 * it leads to. Quorum is `minApprovals` distinct people; one deny denies. There is no admin exception.
 */
export function decide(
  request: DecideRequest,
  votes: Pick<Vote, 'userId' | 'decision'>[],
  clicker: Clicker,
  choice: { decision: Decision; reason?: string | null },
  now: number,
  workspace: Workspace | null,
): Outcome {
  if (request.status !== 'pending') return { ok: false, refusal: 'not_pending' };
  if (now >= request.expiresAt) return { ok: false, refusal: 'expired' };
  if (clicker.isBot || clicker.isAppUser || clicker.userId === 'USLACKBOT')
    return { ok: false, refusal: 'bot' };
  if (clicker.deleted) return { ok: false, refusal: 'deactivated' };
  if (!isMember(workspace, clicker)) return { ok: false, refusal: 'other_workspace' };
  if (clicker.isRestricted || clicker.isUltraRestricted) return { ok: false, refusal: 'guest' };
  if (isRequester(request, clicker)) return { ok: false, refusal: 'requester' };
  if (!isApprover(request.approvers, clicker)) return { ok: false, refusal: 'not_approver' };
  if (votes.some((v) => v.userId === clicker.userId)) return { ok: false, refusal: 'already_voted' };
  const reason = choice.reason?.trim() ? choice.reason.trim() : null;
  if (choice.decision === 'deny') {
    if (request.denyReasonRequired && reason === null) return { ok: false, refusal: 'reason_required' };
    const approvals = new Set(votes.filter((v) => v.decision === 'approve').map((v) => v.userId)).size;
    return { ok: true, vote: { decision: 'deny', reason }, status: 'denied', approvals };
  }
  const approvers = new Set(votes.filter((v) => v.decision === 'approve').map((v) => v.userId));
  approvers.add(clicker.userId);
  return {
    ok: true,
    vote: { decision: 'approve', reason },
    status: approvers.size >= request.minApprovals ? 'approved' : 'pending',
    approvals: approvers.size,
  };
}
