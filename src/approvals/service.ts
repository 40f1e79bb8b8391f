import type { AuditLog } from '../audit/audit-log.js';
import type { Caller } from '../core/caller.js';
import { decide, type Outcome, type Refusal } from '../core/decide.js';
import { newRequestId } from '../core/ids.js';
import { type EffectivePolicy, type Policy, resolvePolicy } from '../core/policy.js';
import { redactRequest } from '../core/redact.js';
import type { CreateRequestInput } from '../core/request-schema.js';
import type {
  ApprovalRequest,
  Clicker,
  Decision,
  FinalStatus,
  RequesterLookup,
  Vote,
  Workspace,
} from '../core/types.js';
import type { Attestor } from '../identity/identity.js';
import type { OpenDatabase } from '../store/db.js';
import { OutboxRepo } from '../store/outbox-repo.js';
import { RequestsRepo } from '../store/requests-repo.js';
import { DecisionBus } from './decision-bus.js';
import { items } from './outbox-items.js';
import { firstReminderAt, nextReminderAt } from './reminders.js';

export type SubmitResult =
  | { kind: 'created'; request: ApprovalRequest }
  | { kind: 'replayed'; request: ApprovalRequest }
  | { kind: 'idempotency_conflict' }
  | { kind: 'policy_denied'; rule: string }
  | { kind: 'no_channel' };

export type CancelResult =
  | { kind: 'cancelled'; request: ApprovalRequest }
  | { kind: 'not_found' }
  | { kind: 'already_decided'; status: FinalStatus };

export interface VoteResult {
  outcome: Outcome;
  request: ApprovalRequest | null;
}

export interface ApprovalsOptions {
  database: OpenDatabase;
  audit: AuditLog;
  defaultChannel: string | null;
  policy: Policy | null;
  /** The installing workspace (from auth.test); until it is set, nobody can vote. */
  workspace?: Workspace | null;
  /** Called after every commit that enqueued outbox rows. */
  onOutbox?: () => void;
  /** Signs the attestation of each approval (CONTRACT §12); without one, approvals carry none. */
  attestor?: Attestor | null;
}

/**
 * Every state change of a request lives here, so the HTTP API, Slack listeners, slash commands
 * and the cron cannot diverge. Each method is ONE immediate transaction: the guarded change, its
 * audit events and its outbox rows; Slack and callbacks happen after the commit.
 */
export class Approvals {
  readonly requests: RequestsRepo;
  readonly outbox: OutboxRepo;
  readonly decisions = new DecisionBus();
  private readonly database: OpenDatabase;
  private readonly audit: AuditLog;
  private readonly defaultChannel: string | null;
  private readonly attestor: Attestor | null;
  policy: Policy | null;
  workspace: Workspace | null;
  onOutbox: () => void;
  /** Called after the commit that took a request out of `pending` in this process (metrics). */
  onDecided: (request: ApprovalRequest) => void = () => {};
  /** Called after a commit that left a request pending (created, or voted on): the expiry timer. */
  onPending: (request: ApprovalRequest) => void = () => {};

  constructor(opts: ApprovalsOptions) {
    this.database = opts.database;
    this.audit = opts.audit;
    this.defaultChannel = opts.defaultChannel;
    this.policy = opts.policy;
    this.workspace = opts.workspace ?? null;
    this.onOutbox = opts.onOutbox ?? (() => {});
    this.attestor = opts.attestor ?? null;
    this.requests = new RequestsRepo(opts.database.db);
    this.outbox = new OutboxRepo(opts.database.db);
  }

  /** What policy would do with this body (no side effects). */
  effectivePolicy(input: CreateRequestInput, client: string): EffectivePolicy {
    return resolvePolicy(this.policy, input, client);
  }

  submit(
    client: string,
    webhookId: string,
    payloadSha256: string,
    input: CreateRequestInput,
    now: number,
    caller: Caller | null = null,
  ): SubmitResult {
    const result = this.database.tx(() =>
      this.submitInTx(client, webhookId, payloadSha256, input, now, caller),
    );
    if (result.kind === 'created') this.afterCommit(result.request);
    return result;
  }

  /**
   * `submit`, committed together with the other submits of the same event-loop turn (the HTTP API
   * uses this: under load one commit serves many requests). Resolves after the commit.
   */
  async submitGrouped(
    client: string,
    webhookId: string,
    payloadSha256: string,
    input: CreateRequestInput,
    now: number,
    caller: Caller | null = null,
  ): Promise<SubmitResult> {
    const result = await this.database.txGrouped(() =>
      this.submitInTx(client, webhookId, payloadSha256, input, now, caller),
    );
    if (result.kind === 'created') this.afterCommit(result.request);
    return result;
  }

  /** The body of `submit`; the caller owns the transaction. */
  private submitInTx(
    client: string,
    webhookId: string,
    payloadSha256: string,
    input: CreateRequestInput,
    now: number,
    caller: Caller | null,
  ): SubmitResult {
    const existing = this.requests.findByWebhookId(client, webhookId);
    if (existing) {
      return existing.payloadSha256 === payloadSha256
        ? { kind: 'replayed', request: existing }
        : { kind: 'idempotency_conflict' };
    }
    const { value, count } = redactRequest(input);
    const policy = resolvePolicy(this.policy, value, client, caller);
    if (policy.outcome === 'deny') {
      const rule = policy.rule ?? '(defaults)';
      this.audit.append(
        {
          type: 'request.refused_by_policy',
          actor: `client:${client}`,
          data: {
            action: value.action,
            title: value.title,
            rule,
            policy_hash: policy.policyHash,
            payload_sha256: payloadSha256,
            caller,
          },
        },
        now,
      );
      return { kind: 'policy_denied', rule };
    }
    const channel = policy.channel ?? this.defaultChannel;
    if (channel === null) return { kind: 'no_channel' };
    const id = newRequestId(now);
    const auto = policy.outcome === 'auto_approve';
    const expiresAt = now + policy.ttlSeconds * 1000;
    const requesterEmail = value.requester.email?.toLowerCase() ?? null;
    this.requests.insert({
      id,
      client,
      webhookId,
      payloadSha256,
      status: auto ? 'approved' : 'pending',
      action: value.action,
      title: value.title,
      summary: value.summary ?? null,
      resource: value.resource ?? null,
      environment: value.environment ?? null,
      risk: value.risk,
      requester: value.requester,
      requesterSlackId: value.requester.slack_user_id ?? null,
      requesterEmail,
      requesterCheck: auto || !policy.requireVerifiedRequester ? null : 'required',
      context: value.context ?? null,
      links: value.links ?? null,
      diff: value.diff ?? null,
      approvers: policy.approvers,
      minApprovals: policy.minApprovals,
      ttlSeconds: policy.ttlSeconds,
      callbackUrl: value.callback_url ?? null,
      channel,
      policyRule: policy.rule,
      policyHash: policy.policyHash,
      denyReasonRequired: policy.denyReasonRequired,
      reminderPoints: policy.reminderPoints,
      nextReminderAt: auto ? null : firstReminderAt(now, expiresAt, policy.reminderPoints),
      redactions: count,
      createdAt: now,
      expiresAt,
      decidedAt: auto ? now : null,
      decidedBy: auto ? 'policy' : null,
      reason: auto ? `auto-approved by policy rule ${policy.rule ?? '(defaults)'}` : null,
      caller,
    });
    const request = this.mustGet(id);
    this.audit.append(
      {
        type: 'request.created',
        requestId: id,
        actor: `client:${client}`,
        data: {
          client,
          caller,
          requester: value.requester,
          action: value.action,
          title: value.title,
          risk: value.risk,
          resource: request.resource,
          environment: request.environment,
          payload_sha256: payloadSha256,
          approvers: policy.approvers,
          min_approvals: policy.minApprovals,
          policy_rule: policy.rule,
          policy_hash: policy.policyHash,
          channel,
          redactions: count,
          created_at: new Date(now).toISOString(),
          expires_at: new Date(expiresAt).toISOString(),
        },
      },
      now,
    );
    if (auto) this.appendDecision(request, [], now, { threshold: 'policy auto_approve' });
    this.outbox.enqueue([...items.postCard(request), ...items.callback(request, [])], now);
    return { kind: 'created', request };
  }

  /** Records a vote (or a refused attempt) for `clicker`, deciding with the pure rule. */
  vote(
    requestId: string,
    clicker: Clicker,
    choice: { decision: Decision; reason?: string | null },
    now: number,
  ): VoteResult {
    const result = this.database.tx((): VoteResult => {
      const request = this.requests.get(requestId);
      if (!request) return { outcome: { ok: false, refusal: 'not_pending' }, request: null };
      const votes = this.requests.votes(requestId);
      const outcome = decide(request, votes, clicker, choice, now, this.workspace);
      if (!outcome.ok) {
        this.auditRefusal(request, clicker, outcome.refusal, choice.decision, now);
        return { outcome, request };
      }
      const vote: Vote = {
        userId: clicker.userId,
        teamId: clicker.teamId,
        enterpriseId: clicker.enterpriseId,
        userName: clicker.name,
        decision: outcome.vote.decision,
        reason: outcome.vote.reason,
        at: now,
      };
      this.requests.insertVote(requestId, vote);
      this.audit.append(
        {
          type: 'vote.recorded',
          requestId,
          actor: clicker.userId,
          data: {
            decision: vote.decision,
            reason: vote.reason,
            user: {
              id: clicker.userId,
              team_id: clicker.teamId,
              enterprise_id: clicker.enterpriseId,
              name: clicker.name,
            },
            payload_sha256: request.payloadSha256,
            approvals: outcome.approvals,
            min_approvals: request.minApprovals,
          },
        },
        now,
      );
      const rows = [items.updateCard(request), items.voteReply(request, vote)];
      if (outcome.status !== 'pending') {
        const reason = outcome.status === 'denied' ? vote.reason : null;
        const closed = this.requests.close(
          requestId,
          { status: outcome.status, decidedAt: now, decidedBy: clicker.userId, reason },
          now,
        );
        if (!closed) throw new Error(`request ${requestId} changed under an immediate transaction`);
        const final = this.mustGet(requestId);
        const allVotes = [...votes, vote];
        this.appendDecision(final, allVotes, now, {
          threshold:
            outcome.status === 'approved'
              ? `${outcome.approvals} of ${request.minApprovals} approvals`
              : 'one deny denies',
        });
        rows.push(items.outcomeReply(final), ...items.callback(final, allVotes));
      }
      this.outbox.enqueue(rows, now);
      return { outcome, request: this.mustGet(requestId) };
    });
    if (result.outcome.ok && result.request) this.afterCommit(result.request);
    return result;
  }

  /**
   * Stores what the card's lookup learned about the requester (their Slack ID, email, and whether
   * Slack knows them). When policy requires a verified requester and Slack knows no such user, the
   * request is closed as denied by policy in the same transaction, with a reason that says what to
   * fix. Returns the request as stored after the change.
   */
  recordRequesterCheck(requestId: string, learned: RequesterLookup, now: number): ApprovalRequest | null {
    let closed = false;
    const result = this.database.tx(() => {
      closed = false;
      const before = this.requests.get(requestId);
      if (!before) return null;
      this.requests.update(requestId, learned);
      const refuse =
        before.requesterCheck === 'required' &&
        learned.requesterCheck === 'unverified' &&
        before.status === 'pending';
      if (!refuse) return this.mustGet(requestId);
      const who = before.requester.email ?? before.requester.slack_user_id ?? 'the requester';
      const reason = `the requester ${who} matches no Slack user of this workspace, and policy rule ${before.policyRule ?? '(defaults)'} requires a verified requester: send requester.email as the person's Slack email address, or requester.slack_user_id`;
      if (
        !this.requests.close(requestId, { status: 'denied', decidedAt: now, decidedBy: 'policy', reason })
      ) {
        return this.mustGet(requestId);
      }
      closed = true;
      return this.finish(requestId, now, { threshold: 'policy require_verified_requester' });
    });
    if (result && closed) this.afterCommit(result);
    return result;
  }

  /** Records a refused attempt decided before any vote was possible (e.g. the deny precheck). */
  refuse(requestId: string, clicker: Clicker, refusal: Refusal, decision: Decision, now: number): void {
    this.database.tx(() => {
      const request = this.requests.get(requestId);
      if (request) this.auditRefusal(request, clicker, refusal, decision, now);
    });
  }

  private auditRefusal(
    request: ApprovalRequest,
    clicker: Clicker,
    refusal: Refusal,
    decision: Decision,
    now: number,
  ) {
    this.audit.append(
      {
        type: 'vote.refused',
        requestId: request.id,
        actor: clicker.userId,
        data: {
          refusal,
          decision,
          user: {
            id: clicker.userId,
            team_id: clicker.teamId,
            enterprise_id: clicker.enterpriseId,
            name: clicker.name,
          },
          status: request.status,
        },
      },
      now,
    );
  }

  /** Withdraws a pending request. `actor` is `client:<name>` or an admin's Slack user ID. */
  cancel(
    requestId: string,
    actor: string,
    reason: string | null,
    now: number,
    client?: string,
  ): CancelResult {
    const result = this.database.tx((): CancelResult => {
      const request = this.requests.get(requestId);
      if (!request || (client !== undefined && request.client !== client)) return { kind: 'not_found' };
      if (request.status !== 'pending') return { kind: 'already_decided', status: request.status };
      this.requests.close(requestId, { status: 'cancelled', decidedAt: now, decidedBy: actor, reason });
      return { kind: 'cancelled', request: this.finish(requestId, now, { threshold: 'cancelled' }) };
    });
    if (result.kind === 'cancelled') this.afterCommit(result.request);
    return result;
  }

  /**
   * Expires pending requests whose deadline has passed, in chunks of `batch` per transaction, with
   * the same guarded transition as a vote. Returns how many were expired.
   */
  expireDue(now: number, batch = 500): number {
    let total = 0;
    for (;;) {
      const n = this.expireChunk(now, batch);
      total += n;
      if (n < batch) return total;
    }
  }

  /** One transaction of `expireDue`: at most `batch` requests. The cron yields between chunks. */
  expireChunk(now: number, batch: number): number {
    const expired = this.database.tx(() => {
      const done: ApprovalRequest[] = [];
      for (const id of this.requests.dueForExpiry(now, batch)) {
        const reason = 'nobody decided before the deadline';
        if (!this.requests.close(id, { status: 'expired', decidedAt: now, decidedBy: 'system', reason }))
          continue;
        done.push(this.finish(id, now, { threshold: 'expired' }));
      }
      return done;
    });
    for (const r of expired) {
      this.decisions.notify(r.id);
      this.onDecided(r);
    }
    if (expired.length > 0) this.onOutbox();
    return expired.length;
  }

  /** Posts due reminders to approvers who have not voted; each point at most once, across restarts. */
  remindDue(now: number, batch = 200): number {
    const sent = this.database.tx(() => {
      let n = 0;
      for (const request of this.requests.dueForReminder(now, batch)) {
        // After downtime several points may be due: remind once, for the latest of them.
        let point = request.remindersSent;
        while ((nextReminderAt(request, point + 1) ?? Number.POSITIVE_INFINITY) <= now) point++;
        const next = nextReminderAt(request, point + 1);
        if (!this.requests.advanceReminder(request.id, request.remindersSent, point + 1, next)) continue;
        if (now >= request.expiresAt) continue;
        this.outbox.enqueue([items.reminder(request, request.remindersSent)], now);
        this.audit.append(
          {
            type: 'request.reminded',
            requestId: request.id,
            actor: 'system',
            data: { point: request.remindersSent },
          },
          now,
        );
        n++;
      }
      return n;
    });
    if (sent > 0) this.onOutbox();
    return sent;
  }

  /** After closing `id` inside a transaction: audit the decision, queue card, thread and callback. */
  private finish(id: string, now: number, info: { threshold: string }): ApprovalRequest {
    const final = this.mustGet(id);
    const votes = this.requests.votes(id);
    this.appendDecision(final, votes, now, info);
    this.outbox.enqueue(
      [items.updateCard(final), items.outcomeReply(final), ...items.callback(final, votes)],
      now,
    );
    return final;
  }

  /**
   * The signed decision record auditors ask for. An approval also gets its attestation here, stored
   * and audited in the same transaction, and set on `r` so the callback queued next carries it.
   */
  private appendDecision(r: ApprovalRequest, votes: Vote[], now: number, info: { threshold: string }): void {
    this.audit.append(
      {
        type: `request.${r.status}`,
        requestId: r.id,
        actor: r.decidedBy ?? 'system',
        data: {
          client: r.client,
          requester: r.requester,
          requester_slack_id: r.requesterSlackId,
          action: r.action,
          title: r.title,
          payload_sha256: r.payloadSha256,
          approvers: r.approvers,
          min_approvals: r.minApprovals,
          threshold_met: info.threshold,
          votes: votes.map((v) => ({
            user_id: v.userId,
            team_id: v.teamId,
            enterprise_id: v.enterpriseId,
            name: v.userName,
            decision: v.decision,
            reason: v.reason,
            at: new Date(v.at).toISOString(),
          })),
          reason: r.reason,
          policy_rule: r.policyRule,
          policy_hash: r.policyHash,
          created_at: new Date(r.createdAt).toISOString(),
          decided_at: new Date(now).toISOString(),
          expires_at: new Date(r.expiresAt).toISOString(),
        },
      },
      now,
    );
    if (r.status === 'approved' && this.attestor !== null) {
      const issued = this.attestor.issue(r, votes, now, this.policy);
      this.requests.update(r.id, { attestation: issued.token });
      r.attestation = issued.token;
      this.audit.append(issued.event, now);
    }
  }

  private afterCommit(request: ApprovalRequest): void {
    if (request.status !== 'pending') {
      this.decisions.notify(request.id);
      this.onDecided(request);
    } else this.onPending(request);
    this.onOutbox();
  }

  private mustGet(id: string): ApprovalRequest {
    const r = this.requests.get(id);
    if (!r) throw new Error(`request ${id} vanished inside a transaction`);
    return r;
  }
}
