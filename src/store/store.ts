import type { ApprovalRequest, Status, Vote } from '../core/types.js';
import type { AuditReader } from './audit-reader.js';
import type { ChannelPending, HistoryEvent } from './listing-repo.js';
import type { OutboxRow } from './outbox-rows.js';
import type { NewRequestRow } from './request-rows.js';
import type { WindowStats } from './stats-repo.js';

export type { OutboxRow } from './outbox-rows.js';
export type { NewRequestRow } from './request-rows.js';

/** A request leaving `pending`: the guarded transition's new values. */
export interface CloseChange {
  status: Exclude<Status, 'pending'>;
  decidedAt: number;
  decidedBy: string;
  reason: string | null;
}

/** The requests and votes tables. */
export interface RequestsStore {
  /** Inserts a request and returns it as stored (defaults filled in), read back by the insert itself. */
  insert(row: NewRequestRow): Promise<ApprovalRequest>;
  get(id: string): Promise<ApprovalRequest | null>;
  /**
   * `get`, holding the request's row until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite's
   * transactions are serialised anyway): a vote, cancel or check reads, decides and writes with no
   * other replica changing the request in between.
   */
  getForUpdate(id: string): Promise<ApprovalRequest | null>;
  findByWebhookId(client: string, webhookId: string): Promise<ApprovalRequest | null>;
  votes(requestId: string): Promise<Vote[]>;
  votesFor(requestIds: string[]): Promise<Map<string, Vote[]>>;
  /** The unique (request, user) index refuses a second vote by the same person. */
  insertVote(requestId: string, vote: Vote): Promise<void>;
  /**
   * The guarded transition: changes the status only if the request is still pending (and, when
   * `unexpiredAt` is given, not yet expired at that time). Returns whether exactly one row changed.
   */
  close(id: string, change: CloseChange, unexpiredAt?: number): Promise<boolean>;
  update(id: string, fields: Partial<NewRequestRow>): Promise<void>;
  /**
   * Pending requests whose deadline has passed, oldest deadline first. Inside a PostgreSQL
   * transaction their rows are locked until it ends.
   */
  dueForExpiry(now: number, limit: number): Promise<string[]>;
  /** Pending requests with a reminder due (locked like `dueForExpiry`). */
  dueForReminder(now: number, limit: number): Promise<ApprovalRequest[]>;
  /** Moves the reminder count from `sent` to `to`, only if nobody else did it first. */
  advanceReminder(id: string, sent: number, to: number, nextAt: number | null): Promise<boolean>;
  /**
   * The earliest `expires_at` of a pending request, or null when none is pending: one seek on the
   * partial index `requests_pending_expiry`. The expiry timer sleeps until then.
   */
  nextPendingDeadline(): Promise<number | null>;
  /** Marks an approved request as used, only if nobody did first. Returns whether this call did. */
  markConsumed(id: string, at: number): Promise<boolean>;
}

/** How many rows a worker can start now, by kind, and lanes it will not take now. */
export interface ClaimWant {
  serial: number;
  parallel: number;
  skipLanes?: readonly string[];
}

export interface NewOutboxItem {
  kind: string;
  requestId: string | null;
  lane: string;
  payload: unknown;
}

/**
 * The outbox: rows enqueued in the transaction of the change they announce, claimed by a worker
 * with a lease, then marked done, retried later or given up.
 */
export interface OutboxStore {
  enqueue(items: NewOutboxItem[], now: number): Promise<void>;
  /**
   * Claims rows due at `now` for `owner`, until `lease.at + lease.ms`: at most `want.serial` rows of
   * `slack:` lanes (one at a time per lane, across every worker) and `want.parallel` of the other
   * lanes; never a row another live claim holds, never a row of a paused lane or of
   * `want.skipLanes`, never a row behind an earlier open row of the same request and lane. A claim
   * whose lease ran out (its worker died) may be claimed again. Leases and pauses are on the wall
   * clock (`lease.at`, Date.now()), which replicas share; `now` is the product's clock, which
   * schedules the rows.
   */
  claim(owner: string, now: number, want: ClaimWant, lease: { at: number; ms: number }): Promise<OutboxRow[]>;
  /** Extends the leases of rows `owner` still works on. */
  extend(owner: string, ids: number[], until: number): Promise<void>;
  /** Drops `owner`'s claims (all, at stop; or of `ids`), so another worker may take the rows at once. */
  release(owner: string, ids?: number[]): Promise<void>;
  /** Pauses a lane for every worker until `until` (wall clock; Slack's 429). */
  pauseLane(lane: string, until: number): Promise<void>;
  /**
   * Marks rows done, whoever holds them (the work was done; a card update also closes the queued
   * updates it covers, which nobody claimed). Drops `owner`'s claims on them; another worker's claim
   * stays until that worker settles, so a Slack lane stays busy while it still runs the row.
   */
  markDone(owner: string, ids: number[], now: number): Promise<void>;
  /**
   * Schedules row `id` again, only while `owner` still holds its claim and the row is open (a
   * worker whose lease ran out must not hand back a row another worker took over). Returns
   * whether it did; `owner`'s claim on the row is dropped either way.
   */
  retryLater(
    owner: string,
    id: number,
    nextAt: number,
    error: string,
    countAttempt?: boolean,
  ): Promise<boolean>;
  /** Gives row `id` up, on the terms of `retryLater`. Returns whether it did. */
  giveUp(owner: string, id: number, now: number, error: string): Promise<boolean>;
  /** Open rows of one kind for one request. */
  openIds(requestId: string, kind: string): Promise<number[]>;
  /** Whether any row of a lane not paused at `wall` is due at `now` (claimed or not): a drain keeps going. */
  anyDue(now: number, wall: number): Promise<boolean>;
  openCount(): Promise<number>;
  /** Open rows and the creation time of the oldest (metrics). */
  openSummary(): Promise<{ rows: number; oldestCreatedAt: number | null }>;
}

export interface AuditEventRow {
  seq: number;
  at: number;
  type: string;
  requestId: string | null;
  actor: string;
  data: string;
  prevHash: string;
  hash: string;
  keyId: string | null;
  signature: string | null;
}

/** The audit tables. Appends serialise on the chain head (see `lockHead`). */
export interface AuditStore {
  /**
   * The head of the chain, held until the transaction ends so that one chain is written whatever
   * the number of writers (PostgreSQL: a transaction-scoped advisory lock, taken on first use).
   */
  lockHead(): Promise<{ seq: number; hash: string } | null>;
  insertEvent(row: AuditEventRow): Promise<void>;
  /** The data (canonical JSON) of the latest event of one of `types`. */
  lastData(types: string[]): Promise<string | null>;
  keyKnown(keyId: string): Promise<boolean>;
  /** Every stored key (public half). */
  keys(): Promise<{ keyId: string; publicKey: string; createdAt: number }[]>;
  /** Time and data of every event of one of `types`, in chain order. */
  eventsOfTypes(types: string[]): Promise<{ at: number; data: string }[]>;
  insertKey(keyId: string, publicKeyPem: string, now: number): Promise<void>;
  latestCheckpoint(): Promise<{ seq: number; hash: string; at: number } | null>;
  insertCheckpoint(cp: {
    seq: number;
    headHash: string;
    at: number;
    keyId: string;
    signature: string;
  }): Promise<number>;
}

/** Read-only queries behind `/approvals` and the App Home. */
export interface ListingStore {
  countPending(): Promise<number>;
  pendingPage(offset: number, limit: number): Promise<ApprovalRequest[]>;
  requestedBy(
    userId: string,
    email: string | null,
    limit: number,
  ): Promise<{ items: ApprovalRequest[]; total: number }>;
  pendingByChannel(): Promise<ChannelPending[]>;
  history(requestId: string, limit: number): Promise<{ events: HistoryEvent[]; total: number }>;
  idsLike(prefix: string, limit: number): Promise<string[]>;
}

export interface StatsStore {
  window(since: number, fastMs: number): Promise<WindowStats>;
}

/** What a transaction works with: the repositories, bound to it. */
export interface Tx {
  requests: RequestsStore;
  outbox: OutboxStore;
  audit: AuditStore;
  /**
   * Tells the other replicas, when this transaction commits, that `requestId` left `pending`
   * (PostgreSQL NOTIFY; nothing to do for a one-process store).
   */
  announceDecision(requestId: string): Promise<void>;
}

/**
 * The one interface above `src/store`: nothing else knows whether SQLite or PostgreSQL is behind
 * it. The repositories on the store itself run each call on its own (reads, mostly); every write
 * goes through `transaction`.
 */
export interface Store extends Tx {
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the data lives, for messages (a file path, or host:port/database). */
  readonly where: string;
  readonly listing: ListingStore;
  readonly stats: StatsStore;
  /**
   * Runs `fn` in one transaction and commits it, or rolls back when it throws. `fn` must await
   * only the store (never Slack, HTTP or timers): SQLite serialises transactions in this process,
   * so a slow `fn` holds up every other.
   */
  transaction<T>(fn: (t: Tx) => Promise<T>): Promise<T>;
  /**
   * Like `transaction`, but may share one commit with the other calls of the same event-loop turn
   * (SQLite group commit: each `fn` in a savepoint of its own, so a throw undoes and rejects only
   * its own). Every promise settles after the shared commit.
   */
  transactionGrouped<T>(fn: (t: Tx) => Promise<T>): Promise<T>;
  /**
   * Plain SQL with `?` placeholders, for tools and tests that read tables directly (column names
   * are the same in both dialects). Rows come back with numbers as numbers.
   */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Calls `listener` when another process announced a decision (see `Tx.announceDecision`). */
  onDecision(listener: (requestId: string) => void): void;
  /**
   * Calls `listener` when announcements may have been missed (the connection that hears them
   * dropped): waiters should re-read what they wait on.
   */
  onDecisionsMissed(listener: () => void): void;
  /**
   * How often a waiter should re-read a request it waits on, or null when announcements are
   * enough (one process): the polling fallback while announcements cannot be heard, and a safety
   * net against a connection that died without a word.
   */
  decisionPollMs(): number | null;
  /** A reader of the audit tables on a consistent snapshot, for verify and export. */
  openAuditReader(): Promise<AuditReader>;
  close(): Promise<void>;
}
