import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Times are Unix milliseconds. JSON columns hold values already validated by core schemas. */
export const requests = sqliteTable(
  'requests',
  {
    id: text('id').primaryKey(),
    client: text('client').notNull(),
    webhookId: text('webhook_id').notNull(),
    payloadSha256: text('payload_sha256').notNull(),
    status: text('status', { enum: ['pending', 'approved', 'denied', 'expired', 'cancelled'] }).notNull(),
    action: text('action').notNull(),
    title: text('title').notNull(),
    summary: text('summary'),
    resource: text('resource'),
    environment: text('environment'),
    risk: text('risk', { enum: ['low', 'medium', 'high', 'critical'] }).notNull(),
    /** `{email?, slack_user_id?, name?}` exactly as the pipeline sent it (after redaction). */
    requester: text('requester', { mode: 'json' }).notNull(),
    /** Filled in once the requester is resolved against Slack (users.lookupByEmail / users.info). */
    requesterSlackId: text('requester_slack_id'),
    requesterEmail: text('requester_email'),
    /**
     * Whether the card's lookup found the requester in Slack: null (not checked yet), `required`
     * (not checked yet, and policy refuses an unverified requester), `verified` or `unverified`.
     */
    requesterCheck: text('requester_check', { enum: ['required', 'verified', 'unverified'] }),
    context: text('context', { mode: 'json' }),
    links: text('links', { mode: 'json' }),
    diff: text('diff'),
    /** Effective approver constraints; a voter must satisfy every one of them. */
    approvers: text('approvers', { mode: 'json' }).notNull(),
    minApprovals: integer('min_approvals').notNull(),
    ttlSeconds: integer('ttl_seconds').notNull(),
    callbackUrl: text('callback_url'),
    channel: text('channel').notNull(),
    policyRule: text('policy_rule'),
    policyHash: text('policy_hash'),
    denyReasonRequired: integer('deny_reason_required', { mode: 'boolean' }).notNull().default(true),
    /** Reminder points as fractions of the TTL that have elapsed, e.g. [0.5, 0.9]. */
    reminderPoints: text('reminder_points', { mode: 'json' }).notNull(),
    remindersSent: integer('reminders_sent').notNull().default(0),
    nextReminderAt: integer('next_reminder_at'),
    redactions: integer('redactions').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    decidedAt: integer('decided_at'),
    /** Who or what closed the request: a Slack user ID, `policy`, `system` (expiry) or `client:<name>`. */
    decidedBy: text('decided_by'),
    reason: text('reason'),
    slackChannel: text('slack_channel'),
    slackTs: text('slack_ts'),
    slackUrl: text('slack_url'),
    cardPostedAt: integer('card_posted_at'),
    /** `{code, message}` while Slack refuses the card for a reason a person must fix (CONTRACT §3). */
    deliveryError: text('delivery_error', { mode: 'json' }),
    /** The proven caller `{issuer, subject, claims}` of an OIDC-authenticated request; null otherwise. */
    caller: text('caller', { mode: 'json' }),
    /** The approval attestation (compact JWS, CONTRACT §12), set when the request is approved. */
    attestation: text('attestation'),
    /** When the first `consume` of an approved request succeeded. */
    consumedAt: integer('consumed_at'),
  },
  (t) => [
    uniqueIndex('requests_client_webhook').on(t.client, t.webhookId),
    index('requests_pending_expiry').on(t.expiresAt).where(sql`status = 'pending'`),
    index('requests_pending_reminder').on(t.nextReminderAt).where(sql`status = 'pending'`),
    index('requests_created').on(t.createdAt),
    /**
     * Pending requests newest first (`ListingRepo.pendingPage`: `/approvals list`, the pages of the
     * App Home and the scan of `/approvals mine`), and their count, without a sort or a walk over
     * decided rows. Partial: a request leaves it when it is decided.
     */
    index('requests_pending_created').on(t.createdAt, t.id).where(sql`status = 'pending'`),
    /** Pending requests per channel with the oldest (`ListingRepo.pendingByChannel`), read from the index alone. */
    index('requests_pending_channel').on(t.channel, t.createdAt).where(sql`status = 'pending'`),
    /**
     * A person's own requests (`ListingRepo.requestedBy`, `/approvals mine`): by Slack ID OR by
     * email, so both need an index for SQLite to answer the OR with two index lookups, not a scan.
     */
    index('requests_requester_slack').on(t.requesterSlackId, t.createdAt),
    index('requests_requester_email').on(t.requesterEmail, t.createdAt),
  ],
);

export const votes = sqliteTable(
  'votes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    requestId: text('request_id')
      .notNull()
      .references(() => requests.id),
    userId: text('user_id').notNull(),
    teamId: text('team_id'),
    enterpriseId: text('enterprise_id'),
    userName: text('user_name'),
    decision: text('decision', { enum: ['approve', 'deny'] }).notNull(),
    reason: text('reason'),
    at: integer('at').notNull(),
  },
  (t) => [uniqueIndex('votes_request_user').on(t.requestId, t.userId)],
);

export const auditEvents = sqliteTable(
  'audit_events',
  {
    seq: integer('seq').primaryKey(),
    at: integer('at').notNull(),
    type: text('type').notNull(),
    requestId: text('request_id'),
    actor: text('actor').notNull(),
    /** Canonical JSON of the event's data, as hashed. */
    data: text('data').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    keyId: text('key_id'),
    signature: text('signature'),
  },
  (t) => [index('audit_request').on(t.requestId)],
);

export const auditKeys = sqliteTable('audit_keys', {
  keyId: text('key_id').primaryKey(),
  publicKey: text('public_key').notNull(),
  createdAt: integer('created_at').notNull(),
});

export const auditCheckpoints = sqliteTable('audit_checkpoints', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  seq: integer('seq').notNull(),
  headHash: text('head_hash').notNull(),
  at: integer('at').notNull(),
  keyId: text('key_id').notNull(),
  signature: text('signature').notNull(),
  slackTs: text('slack_ts'),
});

export const outbox = sqliteTable(
  'outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind').notNull(),
    requestId: text('request_id'),
    /** Rate-limit lane: a Slack channel ID or `callback`; rows in one lane for one request run in order. */
    lane: text('lane').notNull(),
    payload: text('payload', { mode: 'json' }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAt: integer('next_at').notNull(),
    createdAt: integer('created_at').notNull(),
    lastError: text('last_error'),
    doneAt: integer('done_at'),
    /** Set when delivery was abandoned (callbacks after their retry window). */
    gaveUpAt: integer('gave_up_at'),
  },
  (t) => [
    index('outbox_due').on(t.nextAt).where(sql`done_at IS NULL AND gave_up_at IS NULL`),
    index('outbox_request_lane').on(t.requestId, t.lane).where(sql`done_at IS NULL AND gave_up_at IS NULL`),
    /**
     * Open rows by lane and schedule: the lanes with work (a seek per lane), whether a lane has a
     * due row (one seek), and a lane's due rows, without reading the rows that are not yet due.
     */
    index('outbox_open_lane_due')
      .on(t.lane, t.nextAt, t.id)
      .where(sql`done_at IS NULL AND gave_up_at IS NULL`),
  ],
);
