import type { ApprovalRequest, ApproverSet, Clicker, Decision, Vote } from './types.js';

export type Refusal =
  | 'not_pending'
  | 'expired'
  | 'bot'
  | 'guest'
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

/** Whether `clicker` is the requester: the same user ID, or the same email either way round. */
export function isRequester(request: DecideRequest, clicker: Pick<Clicker, 'userId' | 'email'>): boolean {
  const ids = [request.requester.slack_user_id, request.requesterSlackId].filter((x): x is string => !!x);
  if (ids.includes(clicker.userId)) return true;
  if (clicker.email === null || clicker.email === '') return false;
  const emails = [request.requester.email, request.requesterEmail]
    .filter((x): x is string => !!x)
    .map((e) => e.toLowerCase());
  return emails.includes(clicker.email.toLowerCase());
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
 * The whole review rule, pure: given the request, its votes, the clicker, what they chose and the
 * time, either a refusal with its reason or the vote and the status it leads to. Quorum is
 * `minApprovals` distinct people; one deny denies. There is no admin exception.
 */
export function decide(
  request: DecideRequest,
  votes: Pick<Vote, 'userId' | 'decision'>[],
  clicker: Clicker,
  choice: { decision: Decision; reason?: string | null },
  now: number,
): Outcome {
  if (request.status !== 'pending') return { ok: false, refusal: 'not_pending' };
  if (now >= request.expiresAt) return { ok: false, refusal: 'expired' };
  if (clicker.isBot || clicker.isAppUser || clicker.userId === 'USLACKBOT')
    return { ok: false, refusal: 'bot' };
  if (clicker.deleted) return { ok: false, refusal: 'deactivated' };
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
