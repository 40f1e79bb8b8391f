import type { ApprovalRequest, Vote } from './types.js';

/** The request object of CONTRACT §3, as pipelines see it in responses and callbacks. */
export interface RequestObject {
  id: string;
  status: ApprovalRequest['status'];
  action: string;
  title: string;
  requester: ApprovalRequest['requester'];
  client: string;
  risk: ApprovalRequest['risk'];
  summary: string | null;
  resource: string | null;
  environment: string | null;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  decided_by: string | null;
  min_approvals: number;
  votes: {
    user_id: string;
    name: string | null;
    decision: Vote['decision'];
    reason: string | null;
    at: string;
  }[];
  reason: string | null;
  payload_sha256: string;
  policy: { rule: string | null; hash: string | null };
  redactions: number;
  slack_url: string | null;
  delivery_error: { code: string; message: string } | null;
  caller: { issuer: string; subject: string; claims: Record<string, unknown> } | null;
  attestation: string | null;
  consumed_at: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toRequestObject(r: ApprovalRequest, votes: Vote[]): RequestObject {
  return {
    id: r.id,
    status: r.status,
    action: r.action,
    title: r.title,
    requester: r.requester,
    client: r.client,
    risk: r.risk,
    summary: r.summary,
    resource: r.resource,
    environment: r.environment,
    created_at: new Date(r.createdAt).toISOString(),
    expires_at: new Date(r.expiresAt).toISOString(),
    decided_at: iso(r.decidedAt),
    decided_by: r.decidedBy,
    min_approvals: r.minApprovals,
    votes: votes.map((v) => ({
      user_id: v.userId,
      // The voter's Slack name when they voted, so a pipeline's log can say who without a lookup.
      name: v.userName,
      decision: v.decision,
      reason: v.reason,
      at: new Date(v.at).toISOString(),
    })),
    reason: r.reason,
    payload_sha256: r.payloadSha256,
    policy: { rule: r.policyRule, hash: r.policyHash },
    redactions: r.redactions,
    slack_url: r.slackUrl,
    delivery_error: r.deliveryError,
    caller: r.caller,
    attestation: r.attestation,
    consumed_at: iso(r.consumedAt),
  };
}
