import type { DeliveryError } from '../core/types.js';

/**
 * Slack errors that retrying cannot fix: a person has to act (invite the bot, pick another channel,
 * fix the token or the scopes). The card's row is still tried again, slowly (at most 5 minutes
 * apart), so delivery resumes by itself once the cause is fixed; meanwhile the request carries
 * `delivery_error` (CONTRACT §8) with the fix, and the log says it as an error.
 * Codes: https://api.slack.com/methods/chat.postMessage#errors and the errors common to all methods.
 */
const TOKEN =
  'put a valid Bot User OAuth Token (xoxb-..., app settings → OAuth & Permissions) in SLACK_BOT_TOKEN and restart Countersign';

type Fix = (where: string, needed: string | null) => string;

const FIXES: Record<string, Fix> = {
  not_in_channel: (where) => `the bot is not a member of ${where}: type /invite @Countersign in ${where}`,
  channel_not_found: (where) =>
    `${where} does not exist or the bot cannot see it: check the channel ID in COUNTERSIGN_DEFAULT_CHANNEL or the policy rule (for a private channel, type /invite @Countersign in it first)`,
  is_archived: (where) =>
    `${where} is archived: unarchive it, or route these requests to another channel (COUNTERSIGN_DEFAULT_CHANNEL or the policy rule)`,
  restricted_action: (where) =>
    `a workspace setting forbids the bot to post in ${where}: let apps post there, or route these requests to another channel`,
  restricted_action_read_only_channel: (where) =>
    `${where} is read-only for apps: route these requests to another channel`,
  restricted_action_thread_only_channel: (where) =>
    `${where} only allows replies in threads: route these requests to another channel`,
  restricted_action_non_threadable_channel: (where) =>
    `${where} does not allow threads: route these requests to another channel`,
  ekm_access_denied: (where) =>
    `your Enterprise Key Management revoked access to ${where}: ask a workspace admin`,
  team_access_not_granted: () =>
    'the token is not granted access to this workspace: install the app to it (Install App → Install to Workspace)',
  missing_scope: (_where, needed) =>
    `the bot token lacks ${needed ? `the scope ${needed}` : 'a scope'}: add it under OAuth & Permissions → Scopes (or paste manifest.yml again), then Install App → Reinstall to Workspace`,
  invalid_auth: () => `Slack refuses the bot token: ${TOKEN}`,
  not_authed: () => `no bot token reached Slack: ${TOKEN}`,
  account_inactive: () => `the bot's token belongs to a deleted user or app: ${TOKEN}`,
  token_revoked: () => `the bot token was revoked: ${TOKEN}`,
  token_expired: () => `the bot token has expired: ${TOKEN}`,
  no_permission: () => `the token may not call this method: ${TOKEN}`,
  org_login_required: () =>
    'the workspace is migrating to Enterprise Grid: delivery resumes once the migration is over',
  not_allowed_token_type: () => `SLACK_BOT_TOKEN is not a bot token: ${TOKEN}`,
};

/** A Slack error a person must fix: its code, and the scope Slack says is needed (`missing_scope`). */
export interface SlackProblem {
  code: string;
  needed: string | null;
}

/** The Slack error of `err` when retrying cannot fix it; null for anything else. */
export function permanentSlackError(err: unknown): SlackProblem | null {
  const e = err as { code?: string; data?: { error?: string; needed?: string } };
  // Only answers from Slack (`slack_webapi_platform_error`); network and HTTP errors are transient.
  if (e?.code !== 'slack_webapi_platform_error') return null;
  const code = e.data?.error;
  if (typeof code !== 'string' || !(code in FIXES)) return null;
  return { code, needed: typeof e.data?.needed === 'string' ? e.data.needed : null };
}

/** `{code, message}` for the request object: the message says what to fix. */
export function deliveryError(problem: SlackProblem, channelLabel: string): DeliveryError {
  const fix = FIXES[problem.code];
  return {
    code: problem.code,
    message: fix ? fix(channelLabel, problem.needed) : `Slack refuses the card (${problem.code})`,
  };
}
