import type { WebClient } from '@slack/web-api';
import { normalizeEmail } from '../core/decide.js';
import type { ApprovalRequest, Clicker, RequesterLookup } from '../core/types.js';
import { TtlCache } from './ttl-cache.js';

/** A Slack account as users.info describes it (the clicker before group membership is known). */
type SlackUser = Omit<Clicker, 'userId' | 'groups'> & { id: string };

/** Pages of 1000 read at most for one channel's members. */
const MAX_MEMBER_PAGES = 50;

export class IdentityError extends Error {
  /** Slack's error code, when Slack answered (`user_not_found`, `ratelimited`, ...). */
  constructor(
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

const platformError = (err: unknown): string | undefined =>
  (err as { data?: { error?: string } } | undefined)?.data?.error;

/**
 * Who people are, asked of Slack at the moment it matters (users.info, users.lookupByEmail,
 * usergroups.users.list), with short, bounded caches so a burst of clicks costs one call.
 */
export class Identity {
  private readonly users: TtlCache<SlackUser>;
  private readonly emails: TtlCache<string | null>;
  private readonly groups: TtlCache<Set<string>>;
  private readonly channels: TtlCache<Set<string>>;

  constructor(
    private readonly client: WebClient,
    opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {
    const ttl = opts.ttlMs ?? 60_000;
    const max = opts.maxEntries ?? 5_000;
    this.users = new TtlCache(ttl, max, opts.now);
    this.emails = new TtlCache(ttl, max, opts.now);
    this.groups = new TtlCache(ttl, 500, opts.now);
    this.channels = new TtlCache(ttl, 500, opts.now);
  }

  async user(userId: string): Promise<SlackUser> {
    const cached = this.users.get(userId);
    if (cached) return cached;
    let res: Awaited<ReturnType<WebClient['users']['info']>>;
    try {
      res = await this.client.users.info({ user: userId });
    } catch (err) {
      throw new IdentityError(
        `users.info failed for ${userId}: ${platformError(err) ?? (err as Error).message}`,
        platformError(err) ?? null,
      );
    }
    const u = res.user;
    if (!u?.id) throw new IdentityError(`users.info returned no user for ${userId}`);
    const user: SlackUser = {
      id: u.id,
      teamId: u.team_id ?? null,
      enterpriseId: u.enterprise_user?.enterprise_id ?? null,
      name: u.real_name || u.profile?.real_name || u.name || null,
      email: u.profile?.email?.toLowerCase() ?? null,
      isBot: u.is_bot === true,
      isAppUser: u.is_app_user === true,
      isRestricted: u.is_restricted === true,
      isUltraRestricted: u.is_ultra_restricted === true,
      deleted: u.deleted === true,
    };
    this.users.set(userId, user);
    return user;
  }

  /** The Slack user ID for an email, or null when no account has it. */
  async userIdForEmail(email: string): Promise<string | null> {
    const key = email.toLowerCase();
    const cached = this.emails.get(key);
    if (cached !== undefined) return cached;
    try {
      const res = await this.client.users.lookupByEmail({ email: key });
      const id = res.user?.id ?? null;
      this.emails.set(key, id);
      return id;
    } catch (err) {
      if (platformError(err) === 'users_not_found') {
        this.emails.set(key, null);
        return null;
      }
      throw new IdentityError(`users.lookupByEmail failed: ${platformError(err) ?? (err as Error).message}`);
    }
  }

  async groupMembers(groupId: string): Promise<Set<string>> {
    const cached = this.groups.get(groupId);
    if (cached) return cached;
    try {
      const res = await this.client.usergroups.users.list({ usergroup: groupId });
      const members = new Set(res.users ?? []);
      this.groups.set(groupId, members);
      return members;
    } catch (err) {
      throw new IdentityError(
        `usergroups.users.list failed for ${groupId}: ${platformError(err) ?? (err as Error).message}`,
      );
    }
  }

  /**
   * The members of a channel (conversations.members, every page), so `/approvals` shows a request
   * only to people who can read its card. Needs channels:read (public) and groups:read (private
   * channels, of which the bot is a member since it posts there).
   */
  async channelMembers(channel: string): Promise<Set<string>> {
    const cached = this.channels.get(channel);
    if (cached) return cached;
    const members = new Set<string>();
    let cursor: string | undefined;
    try {
      for (let page = 0; page < MAX_MEMBER_PAGES; page++) {
        const res = await this.client.conversations.members({
          channel,
          limit: 1000,
          ...(cursor ? { cursor } : {}),
        });
        for (const m of res.members ?? []) members.add(m);
        cursor = res.response_metadata?.next_cursor || undefined;
        if (!cursor) {
          this.channels.set(channel, members);
          return members;
        }
      }
    } catch (err) {
      throw new IdentityError(
        `conversations.members failed for ${channel}: ${platformError(err) ?? (err as Error).message}`,
        platformError(err) ?? null,
      );
    }
    throw new IdentityError(
      `conversations.members: ${channel} has more than ${MAX_MEMBER_PAGES * 1000} members`,
    );
  }

  /** The clicker as core needs it, including which of `groupIds` they belong to. */
  async clicker(
    userId: string,
    groupIds: string[],
    fallback: { teamId?: string | null; enterpriseId?: string | null },
  ) {
    const user = await this.user(userId);
    const groups: string[] = [];
    for (const g of new Set(groupIds)) {
      if ((await this.groupMembers(g)).has(userId)) groups.push(g);
    }
    const clicker: Clicker = {
      userId: user.id,
      teamId: user.teamId ?? fallback.teamId ?? null,
      enterpriseId: user.enterpriseId ?? fallback.enterpriseId ?? null,
      name: user.name,
      email: user.email,
      isBot: user.isBot,
      isAppUser: user.isAppUser,
      isRestricted: user.isRestricted,
      isUltraRestricted: user.isUltraRestricted,
      deleted: user.deleted,
      groups,
    };
    return clicker;
  }

  /**
   * Looks the requester up in Slack: fills in their Slack ID (from the email, as given, then
   * without a `+tag`) or their email (from the ID), so self-approval is caught either way round,
   * and says whether Slack knows them (`requesterCheck`) the first time it is asked. Returns only
   * what was newly learned. Throws IdentityError when Slack cannot answer (try again later).
   */
  async resolveRequester(
    r: Pick<ApprovalRequest, 'requester' | 'requesterSlackId' | 'requesterEmail' | 'requesterCheck'>,
  ): Promise<RequesterLookup> {
    const learned: RequesterLookup = {};
    const checked = r.requesterCheck === 'verified' || r.requesterCheck === 'unverified';
    if (r.requesterSlackId === null && r.requesterEmail) {
      let id = await this.userIdForEmail(r.requesterEmail);
      const plain = normalizeEmail(r.requesterEmail);
      if (id === null && plain !== r.requesterEmail.trim().toLowerCase())
        id = await this.userIdForEmail(plain);
      if (id) learned.requesterSlackId = id;
    }
    const id = r.requesterSlackId ?? learned.requesterSlackId;
    if (id && (!r.requesterEmail || !checked)) {
      try {
        const user = await this.user(id);
        if (user.email && !r.requesterEmail) learned.requesterEmail = user.email;
        if (!checked) learned.requesterCheck = 'verified';
      } catch (err) {
        if (!(err instanceof IdentityError) || err.code !== 'user_not_found') throw err;
        if (!checked) learned.requesterCheck = 'unverified';
      }
    } else if (!id && !checked) {
      learned.requesterCheck = 'unverified';
    }
    return learned;
  }
}
