import type { CardView } from '../../blocks/view-model.js';
import type { ApprovalRequest, Vote } from '../core/types.js';
import { callerFacts } from '../identity/caller-facts.js';

/** The view model the card is rendered from: a function of stored state only. */
export function toCardView(r: ApprovalRequest, votes: Vote[]): CardView {
  // Show the narrowest named set: the request's own list when it gave one, else the policy's.
  const named = [...r.approvers].reverse().find((s) => s.users.length > 0 || s.groups.length > 0);
  return {
    id: r.id,
    status: r.status,
    title: r.title,
    risk: r.risk,
    action: r.action,
    resource: r.resource,
    environment: r.environment,
    client: r.client,
    requester: {
      slackUserId: r.requesterSlackId ?? r.requester.slack_user_id ?? null,
      name: r.requester.name ?? null,
      email: r.requester.email ?? null,
      verified: r.requesterCheck === 'verified' ? true : r.requesterCheck === 'unverified' ? false : null,
    },
    summary: r.summary,
    context: r.context,
    links: r.links,
    diff: r.diff,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    decidedAt: r.decidedAt,
    decidedBy: r.decidedBy,
    reason: r.reason,
    minApprovals: r.minApprovals,
    votes: votes.map((v) => ({ userId: v.userId, decision: v.decision, reason: v.reason, at: v.at })),
    approverUsers: named?.users ?? [],
    approverGroups: named?.groups ?? [],
    policyRule: r.policyRule,
    redactions: r.redactions,
    caller: r.caller === null ? null : callerFacts(r.caller),
  };
}
