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
import type { Store, Tx } from '../store/store.js';
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
  store: Store;
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
 * and the cron cannot diverge. Each method is ONE transaction: the guarded change, its audit
 * events and its outbox rows; Slack and callbacks happen after the commit. Nothing but the store
 * is awaited inside a transaction.
 */
export class Approvals {
  readonly store: Store;
  readonly decisions = new DecisionBus();
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
    this.store = opts.store;
    this.audit = opts.audit;
    this.defaultChannel = opts.defaultChannel;
    this.policy = opts.policy;
    this.workspace = opts.workspace ?? null;
    this.onOutbox = opts.onOutbox ?? (() => {});
    this.attestor = opts.attestor ?? null;
    // A decision taken by another replica wakes this one's long-polls too; when such news may have
    // been missed, every long-poll re-reads its request.
    this.store.onDecision((id) => this.decisions.notify(id));
    this.store.onDecisionsMissed(() => this.decisions.recheckAll());
  }

  /** The requests and votes (reads outside any transaction). */
  get requests(): Store['requests'] {
    return this.store.requests;
  }

  get outbox(): Store['outbox'] {
    return this.store.outbox;
  }

  /**
   * Resolves true once `id` is no longer pending (at once when a decision is announced, here or by
   * another replica; by re-reading it every `decisionPollMs`, and whenever the store says
   * announcements may have been missed), false after `ms` or when `signal` aborts.
   */
  async waitForDecision(id: string, ms: number, signal?: AbortSignal): Promise<boolean> {
    const until = Date.now() + ms;
    for (;;) {
      const left = until - Date.now();
      if (left <= 0 || signal?.aborted) return false;
      const poll = this.store.decisionPollMs();
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        // Listen first, then read: a decision committed (here or on another replica) after the
        // caller's last read but before this waiter was listening is announced to nobody, and only
        // the read sees it.
        const woken = this.decisions.wait(id, poll === null ? left : Math.min(left, poll), stop.signal);
        if ((await this.store.requests.get(id))?.status !== 'pending') {
          stop.abort();
          return true;
        }
        if (await woken) return true;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }
  }

  /** What policy would do with this body (no side effects). */
  effectivePolicy(input: CreateRequestInput, client: string): EffectivePolicy {
    return resolvePolicy(this.policy, input, client);
  }

  /** Creates a request (one transaction of its own). */
  submit(
    client: string,
    webhookId: string,
    payloadSha256: string,
    input: CreateRequestInput,
    now: number,
    caller: Caller | null = null,
  ): Promise<SubmitResult> {
    return this.submitWith('single', client, webhookId, payloadSha256, input, now, caller);
  }

  /**
   * `submit`, committed together with the other submits of the same event-loop turn (the HTTP API
   * uses this: under load one commit serves many requests). Resolves after the commit.
   */
  submitGrouped(
    client: string,
    webhookId: string,
    payloadSha256: string,
    input: CreateRequestInput,
    now: number,
    caller: Caller | null = null,
  ): Promise<SubmitResult> {
    return this.submitWith('grouped', client, webhookId, payloadSha256, input, now, caller);
  }

  private async submitWith(
    commit: 'single' | 'grouped',
    client: string,
    webhookId: string,
    payloadSha256: string,
    input: CreateRequestInput,
    now: number,
    caller: Caller | null,
  ): Promise<SubmitResult> {
    // Redaction and policy are pure: done before the transaction, so it holds nothing while they run.
    // Policy matches what was sent, not its redacted copy: masking must not move a request out of a
    // rule (`resource: "token=prod-primary"` is still `*prod*`).
    const redacted = redactRequest(input);
    const policy = resolvePolicy(this.policy, input, client, caller);
    const body = (t: Tx) =>
      this.submitInTx(t, client, webhookId, payloadSha256, redacted, policy, now, caller);
    const result =
      commit === 'grouped' ? await this.store.transactionGrouped(body) : await this.store.transaction(body);
    if (result.kind === 'created') this.afterCommit(result.request);
    return result;
  }

  /** The body of `submit`; the caller owns the transaction. */
  private async submitInTx(
    t: Tx,
    client: string,
    webhookId: string,
    payloadSha256: string,
    { value, count }: ReturnType<typeof redactRequest>,
    policy: EffectivePolicy,
    now: number,
    caller: Caller | null,
  ): Promise<SubmitResult> {
    const existing = await t.requests.findByWebhookId(client, webhookId);
    if (existing) {
      return existing.payloadSha256 === payloadSha256
        ? { kind: 'replayed', request: existing }
        : { kind: 'idempotency_conflict' };
    }
    if (policy.outcome === 'deny') {
      const rule = policy.rule ?? '(defaults)';
      await this.audit.append(
        t,
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
    const request = await t.requests.insert({
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
    await this.audit.append(
      t,
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
    if (auto) {
      await this.appendDecision(t, request, [], now, { threshold: 'policy auto_approve' });
      await t.announceDecision(id);
    }
    await t.outbox.enqueue([...items.postCard(request), ...items.callback(request, [])], now);
    return { kind: 'created', request };
  }

  /** Records a vote (or a refused attempt) for `clicker`, deciding with the pure rule. */
  async vote(
    requestId: string,
    clicker: Clicker,
    choice: { decision: Decision; reason?: string | null },
    now: number,
  ): Promise<VoteResult> {
    const result = await this.store.transaction(async (t): Promise<VoteResult> => {
      // The row is held until the commit: replicas counting votes on one request take turns.
      const request = await t.requests.getForUpdate(requestId);
      if (!request) return { outcome: { ok: false, refusal: 'not_pending' }, request: null };
      const votes = await t.requests.votes(requestId);
      const outcome = decide(request, votes, clicker, choice, now, this.workspace);
      if (!outcome.ok) {
        await this.auditRefusal(t, request, clicker, outcome.refusal, choice.decision, now);
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
      await t.requests.insertVote(requestId, vote);
      await this.audit.append(
        t,
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
        const closed = await t.requests.close(
          requestId,
          { status: outcome.status, decidedAt: now, decidedBy: clicker.userId, reason },
          now,
        );
        if (!closed) throw new Error(`request ${requestId} changed under its row lock`);
        const final = await mustGet(t, requestId);
        const allVotes = [...votes, vote];
        await this.appendDecision(t, final, allVotes, now, {
          threshold:
            outcome.status === 'approved'
              ? `${outcome.approvals} of ${request.minApprovals} approvals`
              : 'one deny denies',
        });
        await t.announceDecision(requestId);
        rows.push(items.outcomeReply(final), ...items.callback(final, allVotes));
      }
      await t.outbox.enqueue(rows, now);
      return { outcome, request: await mustGet(t, requestId) };
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
  async recordRequesterCheck(
    requestId: string,
    learned: RequesterLookup,
    now: number,
  ): Promise<ApprovalRequest | null> {
    const result = await this.store.transaction(
      async (t): Promise<{ request: ApprovalRequest | null; closed: boolean }> => {
        const before = await t.requests.getForUpdate(requestId);
        if (!before) return { request: null, closed: false };
        await t.requests.update(requestId, learned);
        const refuse =
          before.requesterCheck === 'required' &&
          learned.requesterCheck === 'unverified' &&
          before.status === 'pending';
        if (!refuse) return { request: await mustGet(t, requestId), closed: false };
        const who = before.requester.email ?? before.requester.slack_user_id ?? 'the requester';
        const reason = `the requester ${who} matches no Slack user of this workspace, and policy rule ${before.policyRule ?? '(defaults)'} requires a verified requester: send requester.email as the person's Slack email address, or requester.slack_user_id`;
        const change = { status: 'denied' as const, decidedAt: now, decidedBy: 'policy', reason };
        if (!(await t.requests.close(requestId, change))) {
          return { request: await mustGet(t, requestId), closed: false };
        }
        const threshold = 'policy require_verified_requester';
        return { request: await this.finish(t, requestId, now, { threshold }), closed: true };
      },
    );
    if (result.request && result.closed) this.afterCommit(result.request);
    return result.request;
  }

  /** Records a refused attempt decided before any vote was possible (e.g. the deny precheck). */
  async refuse(
    requestId: string,
    clicker: Clicker,
    refusal: Refusal,
    decision: Decision,
    now: number,
  ): Promise<void> {
    await this.store.transaction(async (t) => {
      const request = await t.requests.get(requestId);
      if (request) await this.auditRefusal(t, request, clicker, refusal, decision, now);
    });
  }

  private async auditRefusal(
    t: Tx,
    request: ApprovalRequest,
    clicker: Clicker,
    refusal: Refusal,
    decision: Decision,
    now: number,
  ): Promise<void> {
    await this.audit.append(
      t,
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
  async cancel(
    requestId: string,
    actor: string,
    reason: string | null,
    now: number,
    client?: string,
  ): Promise<CancelResult> {
    const result = await this.store.transaction(async (t): Promise<CancelResult> => {
      const request = await t.requests.getForUpdate(requestId);
      if (!request || (client !== undefined && request.client !== client)) return { kind: 'not_found' };
      if (request.status !== 'pending') return { kind: 'already_decided', status: request.status };
      await t.requests.close(requestId, { status: 'cancelled', decidedAt: now, decidedBy: actor, reason });
      return { kind: 'cancelled', request: await this.finish(t, requestId, now, { threshold: 'cancelled' }) };
    });
    if (result.kind === 'cancelled') this.afterCommit(result.request);
    return result;
  }

  /**
   * Expires pending requests whose deadline has passed, in chunks of `batch` per transaction, with
   * the same guarded transition as a vote. Returns how many were expired.
   */
  async expireDue(now: number, batch = 500): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.expireChunk(now, batch);
      total += n;
      if (n < batch) return total;
    }
  }

  /**
   * One transaction of `expireDue`: at most `batch` requests. Their rows are held until the commit
   * and the transition is guarded, so each request expires once whichever replica sweeps.
   */
  async expireChunk(now: number, batch: number): Promise<number> {
    const expired = await this.store.transaction(async (t) => {
      const done: ApprovalRequest[] = [];
      for (const id of await t.requests.dueForExpiry(now, batch)) {
        const reason = 'nobody decided before the deadline';
        const change = { status: 'expired' as const, decidedAt: now, decidedBy: 'system', reason };
        if (!(await t.requests.close(id, change))) continue;
        done.push(await this.finish(t, id, now, { threshold: 'expired' }));
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

  /** Posts due reminders to approvers who have not voted; each point at most once, across restarts and replicas. */
  async remindDue(now: number, batch = 200): Promise<number> {
    const sent = await this.store.transaction(async (t) => {
      let n = 0;
      for (const request of await t.requests.dueForReminder(now, batch)) {
        // After downtime several points may be due: remind once, for the latest of them.
        let point = request.remindersSent;
        while ((nextReminderAt(request, point + 1) ?? Number.POSITIVE_INFINITY) <= now) point++;
        const next = nextReminderAt(request, point + 1);
        if (!(await t.requests.advanceReminder(request.id, request.remindersSent, point + 1, next))) continue;
        if (now >= request.expiresAt) continue;
        await t.outbox.enqueue([items.reminder(request, request.remindersSent)], now);
        await this.audit.append(
          t,
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
  private async finish(
    t: Tx,
    id: string,
    now: number,
    info: { threshold: string },
  ): Promise<ApprovalRequest> {
    const final = await mustGet(t, id);
    const votes = await t.requests.votes(id);
    await this.appendDecision(t, final, votes, now, info);
    await t.announceDecision(id);
    await t.outbox.enqueue(
      [items.updateCard(final), items.outcomeReply(final), ...items.callback(final, votes)],
      now,
    );
    return final;
  }

  /**
   * The signed decision record auditors ask for. An approval also gets its attestation here, stored
   * and audited in the same transaction, and set on `r` so the callback queued next carries it.
   */
  private async appendDecision(
    t: Tx,
    r: ApprovalRequest,
    votes: Vote[],
    now: number,
    info: { threshold: string },
  ): Promise<void> {
    await this.audit.append(
      t,
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
      await t.requests.update(r.id, { attestation: issued.token });
      r.attestation = issued.token;
      await this.audit.append(t, issued.event, now);
    }
  }

  private afterCommit(request: ApprovalRequest): void {
    if (request.status !== 'pending') {
      this.decisions.notify(request.id);
      this.onDecided(request);
    } else this.onPending(request);
    this.onOutbox();
  }
}

async function mustGet(t: Tx, id: string): Promise<ApprovalRequest> {
  const r = await t.requests.get(id);
  if (!r) throw new Error(`request ${id} vanished inside a transaction`);
  return r;
}
