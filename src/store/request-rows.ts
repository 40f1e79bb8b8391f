import type { Caller } from '../core/caller.js';
import type {
  ApprovalRequest,
  ApproverSet,
  ContextValue,
  DeliveryError,
  Link,
  Requester,
  Vote,
} from '../core/types.js';
import type { requests, votes } from './schema.js';

/** A new row of `requests` (the SQLite schema's shape; the PostgreSQL schema has the same fields). */
export type NewRequestRow = typeof requests.$inferInsert;

type RequestRow = typeof requests.$inferSelect;
type VoteRow = typeof votes.$inferSelect;

export function toRequest(row: RequestRow): ApprovalRequest {
  return {
    id: row.id,
    client: row.client,
    status: row.status,
    action: row.action,
    title: row.title,
    summary: row.summary,
    resource: row.resource,
    environment: row.environment,
    risk: row.risk,
    requester: row.requester as Requester,
    requesterSlackId: row.requesterSlackId,
    requesterEmail: row.requesterEmail,
    requesterCheck: row.requesterCheck ?? null,
    context: (row.context as Record<string, ContextValue> | null) ?? null,
    links: (row.links as Link[] | null) ?? null,
    diff: row.diff,
    approvers: row.approvers as ApproverSet[],
    minApprovals: row.minApprovals,
    ttlSeconds: row.ttlSeconds,
    callbackUrl: row.callbackUrl,
    channel: row.channel,
    policyRule: row.policyRule,
    policyHash: row.policyHash,
    denyReasonRequired: row.denyReasonRequired,
    reminderPoints: row.reminderPoints as number[],
    remindersSent: row.remindersSent,
    redactions: row.redactions,
    payloadSha256: row.payloadSha256,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    decidedAt: row.decidedAt,
    decidedBy: row.decidedBy,
    reason: row.reason,
    slackChannel: row.slackChannel,
    slackTs: row.slackTs,
    slackUrl: row.slackUrl,
    cardPostedAt: row.cardPostedAt,
    deliveryError: (row.deliveryError as DeliveryError | null) ?? null,
    caller: (row.caller as Caller | null) ?? null,
    attestation: row.attestation ?? null,
    consumedAt: row.consumedAt ?? null,
  };
}

export function toVote(row: VoteRow): Vote {
  return {
    userId: row.userId,
    teamId: row.teamId,
    enterpriseId: row.enterpriseId,
    userName: row.userName,
    decision: row.decision,
    reason: row.reason,
    at: row.at,
  };
}

/** Votes by request, each list in the order given (the callers read them by id). */
export function groupVotes(rows: VoteRow[]): Map<string, Vote[]> {
  const out = new Map<string, Vote[]>();
  for (const row of rows) {
    const list = out.get(row.requestId) ?? [];
    list.push(toVote(row));
    out.set(row.requestId, list);
  }
  return out;
}
