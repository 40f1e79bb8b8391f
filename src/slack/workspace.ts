import type { WebClient } from '@slack/web-api';
import type { Workspace as VotingWorkspace } from '../core/types.js';

/**
 * The workspace the bot token belongs to: the installing team (null for an organisation-wide
 * Enterprise Grid install) or Enterprise Grid org, and the bot's own user. Only its members vote,
 * use `/approvals` or see requests on the App Home.
 */
export interface Workspace extends VotingWorkspace {
  botUserId: string;
}

/** The bot token cannot be used: the message says what is wrong and how to fix it. */
export class SlackTokenError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SlackTokenError';
  }
}

/** The placeholder of `.env.example`, which is not a token at all. */
export const PLACEHOLDER_BOT_TOKEN = 'xoxb-your-bot-token';

const REINSTALL =
  'copy the Bot User OAuth Token (xoxb-...) from the app settings → OAuth & Permissions into SLACK_BOT_TOKEN';

/** What to do about an error code of `auth.test` (or any call) that means the bot token is unusable. */
export function tokenFix(code: string): string | null {
  switch (code) {
    case 'placeholder':
      return `SLACK_BOT_TOKEN is still the example value from .env.example: ${REINSTALL}`;
    case 'invalid_auth':
    case 'not_authed':
      return `SLACK_BOT_TOKEN is not a valid token (${code}): ${REINSTALL}`;
    case 'token_revoked':
    case 'token_expired':
      return `SLACK_BOT_TOKEN was revoked or has expired (${code}): reinstall the app (Install App → Reinstall to Workspace), then ${REINSTALL}`;
    case 'account_inactive':
    case 'team_disabled':
    case 'user_removed_from_team':
      return `the app's bot user or workspace is deactivated (${code}): reinstall the app in an active workspace, then ${REINSTALL}`;
    case 'not_allowed_token_type':
      return `SLACK_BOT_TOKEN is not a bot token (${code}): ${REINSTALL}`;
    default:
      return null;
  }
}

function platformError(err: unknown): string | undefined {
  return (err as { data?: { error?: string } } | undefined)?.data?.error;
}

/**
 * One `auth.test` with the bot token: which workspace this server serves. Throws a SlackTokenError
 * naming the fix when the token is unusable (the server does not start), and a plain Error saying
 * where Slack was expected when it cannot be reached.
 */
export async function identifyWorkspace(client: WebClient): Promise<Workspace> {
  return (await authTest(client)).workspace;
}

/** `identifyWorkspace`, plus the scopes Slack reports for the token (`x-oauth-scopes`), for doctor. */
export async function authTest(
  client: WebClient,
): Promise<{ workspace: Workspace; scopes: string[] | null }> {
  if (client.token === PLACEHOLDER_BOT_TOKEN) {
    throw new SlackTokenError('placeholder', tokenFix('placeholder') as string);
  }
  let res: Awaited<ReturnType<WebClient['auth']['test']>>;
  try {
    res = await client.auth.test();
  } catch (err) {
    const code = platformError(err);
    const fix = code ? tokenFix(code) : null;
    if (code && fix) throw new SlackTokenError(code, fix);
    throw new Error(
      `auth.test failed (${code ?? (err as Error).message}): check that this machine reaches Slack at SLACK_API_URL (or its proxy)`,
    );
  }
  const teamId = res.team_id || null;
  const enterpriseId = res.enterprise_id || null;
  if (!res.user_id || (teamId === null && enterpriseId === null)) {
    throw new Error(
      'auth.test did not name a workspace or a bot user for SLACK_BOT_TOKEN; use a bot token (xoxb-...)',
    );
  }
  return {
    workspace: { teamId: res.is_enterprise_install ? null : teamId, enterpriseId, botUserId: res.user_id },
    scopes: res.response_metadata?.scopes ?? null,
  };
}
