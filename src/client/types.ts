/**
 * The public types of the Countersign client: what a pipeline or agent sends and gets back
 * (CONTRACT §3). Kept free of server imports so the package's types stand on their own.
 */

export type RequestStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';
export type FinalStatus = Exclude<RequestStatus, 'pending'>;
export type Risk = 'low' | 'medium' | 'high' | 'critical';

export interface Requester {
  email?: string;
  slack_user_id?: string;
  name?: string;
}

/** The body of `POST /api/v1/requests`. The server validates it and lists every problem. */
export interface ApprovalRequestInput {
  /** 1–100 chars of `a-z 0-9 . _ : -`, e.g. `db.export`. */
  action: string;
  /** 1–150 chars. */
  title: string;
  /** The human accountable for the action: at least one of `email` / `slack_user_id`. */
  requester: Requester;
  /** Up to 3000 chars of Slack mrkdwn. */
  summary?: string;
  resource?: string;
  environment?: string;
  risk?: Risk;
  /** At most 20 keys. */
  context?: Record<string, string | number | boolean>;
  /** A unified diff of the change. */
  diff?: string;
  /** At most 5. */
  links?: { text: string; url: string }[];
  /** Can only narrow what the server's policy allows. */
  approvers?: { users?: string[]; groups?: string[] };
  /** 1–10, default 1. */
  min_approvals?: number;
  /** 10–2592000, default 3600. */
  ttl_seconds?: number;
  /** Where the outcome is POSTed (signed); must start with a prefix the server allows. */
  callback_url?: string;
}

export interface VoteObject {
  user_id: string;
  /** The voter's Slack display name at the time of the vote (null when Slack did not give one). */
  name: string | null;
  decision: 'approve' | 'deny';
  reason: string | null;
  at: string;
}

/** The request object the server answers with and sends in callbacks. */
export interface RequestObject {
  id: string;
  status: RequestStatus;
  action: string;
  title: string;
  requester: Requester;
  /** The client (pipeline or agent) that asked, by its name in COUNTERSIGN_CLIENTS. */
  client: string;
  risk: Risk;
  summary: string | null;
  resource: string | null;
  environment: string | null;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  /** Who closed it: a Slack user ID, `system` (expiry) or `client:<name>` (cancelled by a client). */
  decided_by: string | null;
  min_approvals: number;
  votes: VoteObject[];
  /** The deny or cancel reason, or why it expired. */
  reason: string | null;
  /** Hex SHA-256 of the exact request body bytes that were approved. */
  payload_sha256: string;
  policy: { rule: string | null; hash: string | null };
  redactions: number;
  /** Link to the Slack card, once it is posted. */
  slack_url: string | null;
  /** Why the card cannot be delivered to Slack (e.g. the bot is not in the channel), and what to do. */
  delivery_error: DeliveryError | null;
  /** The CI identity that asked, when it authenticated with an OIDC token; null for a shared secret. */
  caller: Caller | null;
  /** Once approved: a compact JWS an executor verifies offline (`verifyApproval`). */
  attestation: string | null;
  /** When an executor consumed the approval (`POST .../consume`), once. */
  consumed_at: string | null;
}

export interface DeliveryError {
  code: string;
  message: string;
}

export interface Caller {
  issuer: string;
  subject: string;
  claims: Record<string, unknown>;
}

/** A request that is no longer pending. */
export type DecidedRequest = RequestObject & { status: FinalStatus };

/** The body of a callback POST. */
export interface CallbackEvent {
  type: `request.${FinalStatus}`;
  data: DecidedRequest;
}

export interface ValidationIssue {
  path: string;
  message: string;
}
