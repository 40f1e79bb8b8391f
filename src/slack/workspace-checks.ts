import type { WebClient } from '@slack/web-api';
import type { Policy } from '../core/policy.js';
import { authTest, SlackTokenError, type Workspace } from './workspace.js';

/** One line of `countersign doctor`: what was checked, what was found, and the fix when it failed. */
export interface CheckResult {
  name: string;
  status: 'pass' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}

const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail });
const fail = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'fail',
  detail,
  fix,
});

function platformError(err: unknown): string {
  const e = err as { data?: { error?: string }; message?: string };
  return e?.data?.error ?? e?.message ?? String(err);
}

const REINSTALL =
  'add it under OAuth & Permissions → Scopes (or paste manifest.yml again under App Manifest), then Install App → Reinstall to Workspace';

/** The bot token (`auth.test`), with the scopes Slack says it grants (the `x-oauth-scopes` header). */
export async function checkToken(
  client: WebClient,
): Promise<{ result: CheckResult; workspace: Workspace | null; scopes: string[] | null }> {
  try {
    const { workspace, scopes } = await authTest(client);
    const org = workspace.enterpriseId ? ` (Enterprise Grid ${workspace.enterpriseId})` : '';
    return {
      result: pass('slack token', `bot user ${workspace.botUserId} in workspace ${workspace.teamId}${org}`),
      workspace,
      scopes,
    };
  } catch (err) {
    if (err instanceof SlackTokenError) {
      return {
        result: fail('slack token', `SLACK_BOT_TOKEN is refused (${err.code})`, err.message),
        workspace: null,
        scopes: null,
      };
    }
    return {
      result: fail(
        'slack token',
        (err as Error).message,
        'check the network path to SLACK_API_URL, then run again',
      ),
      workspace: null,
      scopes: null,
    };
  }
}

/** The scopes granted to the bot token against the manifest's. */
export function checkScopes(granted: string[] | null, wanted: string[]): CheckResult {
  if (granted === null) {
    return fail(
      'slack scopes',
      'Slack did not report the scopes of the token',
      'check that SLACK_BOT_TOKEN is a bot token (xoxb-...) of this app',
    );
  }
  const missing = wanted.filter((s) => !granted.includes(s));
  if (missing.length > 0) {
    return fail(
      'slack scopes',
      `the token lacks ${missing.join(', ')} (the manifest asks for ${wanted.length} scopes)`,
      `${missing.length === 1 ? 'this scope is' : 'these scopes are'} needed: ${REINSTALL}`,
    );
  }
  const extra = granted.filter((s) => !wanted.includes(s));
  return pass(
    'slack scopes',
    `all ${wanted.length} scopes of the manifest are granted${extra.length ? ` (also granted, unused: ${extra.join(', ')})` : ''}`,
  );
}

/** Every channel the configuration names, with the roles it plays (a channel may play several). */
export function configuredChannels(
  config: { defaultChannel: string | null; auditChannel: string | null },
  policy: Policy | null,
): { id: string; roles: string[] }[] {
  const roles = new Map<string, string[]>();
  const add = (id: string | null, role: string) => {
    if (id) roles.set(id, [...(roles.get(id) ?? []), role]);
  };
  add(config.defaultChannel, 'COUNTERSIGN_DEFAULT_CHANNEL');
  add(config.auditChannel, 'COUNTERSIGN_AUDIT_CHANNEL');
  add(policy?.defaults.channel ?? null, 'policy defaults.channel');
  for (const rule of policy?.rules ?? []) add(rule.channel, `policy rule "${rule.name}"`);
  return [...roles].map(([id, r]) => ({ id, roles: r }));
}

/** A channel exists, is not archived, and has the bot as a member (conversations.info). */
export async function checkChannel(client: WebClient, id: string, roles: string[]): Promise<CheckResult> {
  const name = `channel ${id}`;
  const usedAs = `(${roles.join(', ')})`;
  let res: Awaited<ReturnType<WebClient['conversations']['info']>>;
  try {
    res = await client.conversations.info({ channel: id });
  } catch (err) {
    const code = platformError(err);
    if (code === 'channel_not_found') {
      return fail(
        name,
        `${usedAs} not found`,
        'check the ID (open the channel → its name → About → Channel ID); for a private channel, invite the bot first: /invite @Countersign',
      );
    }
    if (code === 'missing_scope') {
      return fail(
        name,
        `${usedAs} cannot be checked: the token lacks channels:read / groups:read`,
        REINSTALL,
      );
    }
    return fail(name, `${usedAs} conversations.info failed (${code})`, 'run countersign doctor again');
  }
  const c = res.channel;
  const label = c?.name ? `#${c.name}` : id;
  if (c?.is_archived) {
    return fail(name, `${label} ${usedAs} is archived`, `unarchive ${label} or configure another channel`);
  }
  if (!c?.is_member) {
    return fail(
      name,
      `the bot is not a member of ${label} ${usedAs}`,
      `invite it: type /invite @Countersign in ${label}`,
    );
  }
  return pass(name, `${label} ${usedAs} exists and the bot is a member`);
}

/** Every admin and policy approver: users resolve to active accounts, user groups exist. */
export function configuredPeople(admins: string[], policy: Policy | null): { id: string; roles: string[] }[] {
  const roles = new Map<string, string[]>();
  const add = (id: string, role: string) => {
    const list = roles.get(id) ?? [];
    if (!list.includes(role)) roles.set(id, [...list, role]);
  };
  for (const id of admins) add(id, 'COUNTERSIGN_ADMINS');
  const sets = [
    { approvers: policy?.defaults.approvers, role: 'policy defaults.approvers' },
    ...(policy?.rules ?? []).map((r) => ({ approvers: r.approvers, role: `policy rule "${r.name}"` })),
  ];
  for (const { approvers, role } of sets) {
    for (const id of [...(approvers?.users ?? []), ...(approvers?.groups ?? [])]) add(id, role);
  }
  return [...roles].map(([id, r]) => ({ id, roles: r }));
}

export async function checkPerson(client: WebClient, id: string, roles: string[]): Promise<CheckResult> {
  const usedAs = `(${roles.join(', ')})`;
  if (id.startsWith('S')) {
    const name = `user group ${id}`;
    try {
      const res = await client.usergroups.users.list({ usergroup: id });
      return pass(name, `${usedAs} exists with ${res.users?.length ?? 0} members`);
    } catch (err) {
      const code = platformError(err);
      return fail(
        name,
        `${usedAs} cannot be resolved (${code})`,
        code === 'no_such_subteam'
          ? 'check the ID (People → User groups → the group → ⋮ → Copy group ID)'
          : 'run countersign doctor again',
      );
    }
  }
  const name = `user ${id}`;
  try {
    const res = await client.users.info({ user: id });
    const u = res.user;
    const who = u?.real_name || u?.name || id;
    if (u?.deleted) {
      return fail(name, `${who} ${usedAs} is deactivated`, `remove ${id} from ${roles.join(' and ')}`);
    }
    if (u?.is_bot || u?.is_app_user) {
      return fail(
        name,
        `${who} ${usedAs} is a bot, which may never vote`,
        `remove ${id} from ${roles.join(' and ')}`,
      );
    }
    return pass(name, `${who} ${usedAs}`);
  } catch (err) {
    const code = platformError(err);
    return fail(
      name,
      `${usedAs} cannot be resolved (${code})`,
      code === 'user_not_found'
        ? "check the ID (the person's profile → ⋮ → Copy member ID); it is a member ID such as U0123ABCD, not a name"
        : 'run countersign doctor again',
    );
  }
}

/** The app-level token of Socket Mode: `apps.connections.open` hands out a connection URL. */
export async function checkAppToken(slackApiUrl: string, appToken: string): Promise<CheckResult> {
  const name = 'socket mode';
  try {
    const res = await fetch(`${slackApiUrl}apps.connections.open`, {
      method: 'POST',
      headers: { authorization: `Bearer ${appToken}`, 'content-type': 'application/x-www-form-urlencoded' },
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { ok?: boolean; error?: string };
    if (body.ok) return pass(name, 'SLACK_APP_TOKEN opens Socket Mode connections');
    return fail(
      name,
      `SLACK_APP_TOKEN is refused (${body.error})`,
      'create an app-level token with connections:write (Basic Information → App-Level Tokens) and turn on Socket Mode (Settings → Socket Mode)',
    );
  } catch (err) {
    return fail(
      name,
      `apps.connections.open failed: ${(err as Error).message}`,
      'check the network path to SLACK_API_URL',
    );
  }
}

/**
 * This machine's clock against Slack's (the `Date` header): Slack's request signatures and the
 * pipelines' Standard Webhooks signatures are refused beyond 300 s of skew.
 */
export async function checkClock(slackApiUrl: string, now: () => number = Date.now): Promise<CheckResult> {
  const name = 'clock';
  try {
    const sent = now();
    const res = await fetch(`${slackApiUrl}api.test`, {
      method: 'POST',
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    const received = now();
    const date = res.headers.get('date');
    const theirs = date ? Date.parse(date) : Number.NaN;
    if (!Number.isFinite(theirs)) return fail(name, 'Slack sent no Date header to compare with', 'run again');
    // The header has whole seconds: compare with the middle of the round trip, allow for rounding.
    const skew = Math.round(((sent + received) / 2 - theirs) / 1000);
    const detail = `${Math.abs(skew)} s ${skew >= 0 ? 'ahead of' : 'behind'} Slack's clock`;
    if (Math.abs(skew) > 60) {
      return fail(
        name,
        `${detail}; signatures are refused beyond 300 s`,
        'synchronise the clock with NTP (e.g. timedatectl set-ntp true)',
      );
    }
    return pass(name, detail);
  } catch (err) {
    return fail(
      name,
      `cannot reach Slack to compare clocks: ${(err as Error).message}`,
      'check the network path to SLACK_API_URL',
    );
  }
}

/**
 * At start (and after a policy reload): what would make deliveries fail for good — a configured
 * channel that does not exist, is archived or lacks the bot, or a scope the token lacks — logged
 * as errors naming the fix. Never throws; the server keeps serving.
 */
export async function logWorkspaceProblems(deps: {
  client: WebClient;
  log: { error(msg: string, fields?: Record<string, unknown>): void };
  channels: { id: string; roles: string[] }[];
  scopes?: { granted: string[] | null; wanted: () => string[] };
}): Promise<number> {
  const results: CheckResult[] = [];
  try {
    if (deps.scopes && deps.scopes.granted !== null)
      results.push(checkScopes(deps.scopes.granted, deps.scopes.wanted()));
    for (const c of deps.channels) results.push(await checkChannel(deps.client, c.id, c.roles));
  } catch (err) {
    deps.log.error('slack: the workspace check at start failed', { error: err });
  }
  const failed = results.filter((r) => r.status === 'fail');
  for (const r of failed) {
    deps.log.error(`slack: ${r.name}: ${r.detail} — fix: ${r.fix}`, { check: r.name, fix: r.fix });
  }
  return failed.length;
}
