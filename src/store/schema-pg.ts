import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  json,
  pgTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * The PostgreSQL schema: the same tables, columns and JavaScript field names as the SQLite one
 * (`schema.ts`), so one repository interface serves both. Times are Unix milliseconds (bigint,
 * read as numbers). JSON columns are `json`, not `jsonb`, so they come back exactly as written.
 * Keep the two files in step; `npm run db:generate` writes the migrations of both.
 */
const ms = (name: string) => bigint(name, { mode: 'number' });

export const requests = pgTable(
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
    requester: json('requester').notNull(),
    requesterSlackId: text('requester_slack_id'),
    requesterEmail: text('requester_email'),
    requesterCheck: text('requester_check', { enum: ['required', 'verified', 'unverified'] }),
    context: json('context'),
    links: json('links'),
    diff: text('diff'),
    approvers: json('approvers').notNull(),
    minApprovals: integer('min_approvals').notNull(),
    ttlSeconds: integer('ttl_seconds').notNull(),
    callbackUrl: text('callback_url'),
    channel: text('channel').notNull(),
    policyRule: text('policy_rule'),
    policyHash: text('policy_hash'),
    denyReasonRequired: boolean('deny_reason_required').notNull().default(true),
    reminderPoints: json('reminder_points').notNull(),
    remindersSent: integer('reminders_sent').notNull().default(0),
    nextReminderAt: ms('next_reminder_at'),
    redactions: integer('redactions').notNull().default(0),
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at').notNull(),
    decidedAt: ms('decided_at'),
    decidedBy: text('decided_by'),
    reason: text('reason'),
    slackChannel: text('slack_channel'),
    slackTs: text('slack_ts'),
    slackUrl: text('slack_url'),
    cardPostedAt: ms('card_posted_at'),
    deliveryError: json('delivery_error'),
    caller: json('caller'),
    attestation: text('attestation'),
    consumedAt: ms('consumed_at'),
  },
  (t) => [
    uniqueIndex('requests_client_webhook').on(t.client, t.webhookId),
    index('requests_pending_expiry').on(t.expiresAt).where(sql`status = 'pending'`),
    index('requests_pending_reminder').on(t.nextReminderAt).where(sql`status = 'pending'`),
    index('requests_created').on(t.createdAt),
    /** Pending requests newest first (`ListingRepo.pendingPage`) without a sort over decided rows. */
    index('requests_pending_created').on(t.createdAt, t.id).where(sql`status = 'pending'`),
    /** Pending requests per channel with the oldest (`ListingRepo.pendingByChannel`). */
    index('requests_pending_channel').on(t.channel, t.createdAt).where(sql`status = 'pending'`),
    /** A person's own requests (`ListingRepo.requestedBy`): by Slack ID or by email. */
    index('requests_requester_slack').on(t.requesterSlackId, t.createdAt),
    index('requests_requester_email').on(t.requesterEmail, t.createdAt),
  ],
);

export const votes = pgTable(
  'votes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    requestId: text('request_id')
      .notNull()
      .references(() => requests.id),
    userId: text('user_id').notNull(),
    teamId: text('team_id'),
    enterpriseId: text('enterprise_id'),
    userName: text('user_name'),
    decision: text('decision', { enum: ['approve', 'deny'] }).notNull(),
    reason: text('reason'),
    at: ms('at').notNull(),
  },
  (t) => [uniqueIndex('votes_request_user').on(t.requestId, t.userId)],
);

export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    at: ms('at').notNull(),
    type: text('type').notNull(),
    requestId: text('request_id'),
    actor: text('actor').notNull(),
    /** Canonical JSON of the event's data, as hashed: text, so the hashed bytes are kept exactly. */
    data: text('data').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    keyId: text('key_id'),
    signature: text('signature'),
  },
  (t) => [index('audit_request').on(t.requestId), index('audit_type_seq').on(t.type, t.seq)],
);

export const auditKeys = pgTable('audit_keys', {
  keyId: text('key_id').primaryKey(),
  publicKey: text('public_key').notNull(),
  createdAt: ms('created_at').notNull(),
});

export const auditCheckpoints = pgTable('audit_checkpoints', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  headHash: text('head_hash').notNull(),
  at: ms('at').notNull(),
  keyId: text('key_id').notNull(),
  signature: text('signature').notNull(),
  slackTs: text('slack_ts'),
});

export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    requestId: text('request_id'),
    lane: text('lane').notNull(),
    payload: json('payload').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAt: ms('next_at').notNull(),
    createdAt: ms('created_at').notNull(),
    lastError: text('last_error'),
    doneAt: ms('done_at'),
    gaveUpAt: ms('gave_up_at'),
    /** The worker (replica) that claimed the row, and until when its lease holds. */
    claimedBy: text('claimed_by'),
    claimedUntil: ms('claimed_until'),
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
    /** Claimed rows by lane (a Slack lane is busy while one is held): a few rows, whatever the backlog. */
    index('outbox_claimed').on(t.lane, t.claimedUntil).where(sql`claimed_until IS NOT NULL`),
  ],
);

/** State shared by every replica about a lane: a Slack 429 pauses it for all until `paused_until`. */
export const outboxLanes = pgTable('outbox_lanes', {
  lane: text('lane').primaryKey(),
  pausedUntil: ms('paused_until').notNull(),
});
