import type { App } from '@slack/bolt';
import type { CommandReply } from '../../blocks/command-format.js';
import {
  COMMAND,
  renderHelp,
  renderList,
  renderMine,
  renderNotice,
  renderShow,
  renderStats,
  renderUsage,
  USAGE,
} from '../../blocks/command-replies.js';
import { MAX_DENY_REASON } from '../../blocks/deny-modal.js';
import { clip } from '../../blocks/mrkdwn.js';
import { isMember } from '../core/decide.js';
import { redactText } from '../core/redact.js';
import { textProblem } from '../core/text-checks.js';
import type { ApprovalRequest } from '../core/types.js';
import { isAdmin } from './admins.js';
import type { SlackActor } from './cast-vote.js';
import { visibility, visiblePendingPage } from './channel-visibility.js';
import type { AuditCheck } from './commands-audit.js';
import { type ReadDeps, requestedBy, toLines, waitingFor } from './commands-model.js';
import { IdentityError } from './identity.js';

export const LIST_PAGE_SIZE = 10;
export const MINE_LIMIT = 15;
export const HISTORY_LIMIT = 50;
/** An approval this soon after the card appeared counts as a rubber stamp. */
export const RUBBER_STAMP_MS = 10_000;
const DAY_MS = 86_400_000;

export interface CommandDeps extends ReadDeps {
  /** `audit verify`: checks the hash chain and every signature of the audit trail. */
  verifyAudit: () => Promise<AuditCheck>;
}

export interface CommandInput {
  actor: SlackActor;
  text: string;
}

/** `req_01abc…` typed in lower case still finds `req_01ABC…`; backticks and <> around it are dropped. */
function normalizeId(raw: string): string {
  const id = raw.replace(/^[`<"']+|[`>"']+$/g, '');
  return /^req_[0-9a-z]+$/i.test(id) ? `req_${id.slice(4).toUpperCase()}` : id;
}

async function findRequest(deps: CommandDeps, raw: string): Promise<ApprovalRequest | null> {
  const id = normalizeId(raw);
  const exact = await deps.approvals.requests.get(id);
  if (exact) return exact;
  // A unique prefix of at least 10 characters is enough (ids are long to type).
  if (id.length < 10) return null;
  const like = await deps.listing.idsLike(id, 2);
  return like.length === 1 && like[0] ? deps.approvals.requests.get(like[0]) : null;
}

function notFound(raw: string): CommandReply {
  return renderNotice(
    `No request has the id \`${clip(normalizeId(raw), 'inline', 80)}\` among those shown to you (a request is shown to members of the channel where its card was posted). Ids look like \`req_01J…\`; \`${COMMAND} list\` shows the pending ones.`,
  );
}

async function adminGate(deps: CommandDeps, actor: SlackActor, what: string): Promise<CommandReply | null> {
  const answer = await isAdmin(actor.id, deps.admins, deps.identity);
  if (answer === 'yes') return null;
  if (answer === 'unknown') {
    return renderNotice(
      `:warning: Countersign could not check the admin user groups with Slack just now, so it did not ${what}. Please try again in a moment.`,
    );
  }
  return renderNotice(
    `:no_entry: Only Countersign admins can ${what}. Admins are the people and user groups listed in \`COUNTERSIGN_ADMINS\`; ask one of them.`,
  );
}

/** Pending requests in the channels the person is a member of (a request in a private channel is not theirs to read otherwise). */
async function list(deps: CommandDeps, actor: SlackActor, args: string[]): Promise<CommandReply> {
  if (args.length > 1 || (args[0] !== undefined && !/^[1-9][0-9]{0,5}$/.test(args[0]))) {
    return renderUsage(
      `\`list\` takes an optional page number, not \`${clip(args.join(' '), 'inline', 80)}\`.`,
      USAGE.list,
    );
  }
  const page = Number(args[0] ?? '1');
  const found = await visiblePendingPage(deps, actor.id, (page - 1) * LIST_PAGE_SIZE, LIST_PAGE_SIZE);
  const { total } = found;
  const pages = Math.max(1, Math.ceil(total / LIST_PAGE_SIZE));
  if (page > pages) {
    return renderNotice(
      `There ${pages === 1 ? 'is only 1 page' : `are only ${pages} pages`} of pending requests (${total} in all). Try \`${COMMAND} list ${pages}\`.`,
    );
  }
  const items = await toLines(deps, found.items);
  return renderList({ items, page, pages, total, pageSize: LIST_PAGE_SIZE, note: found.problem }, deps.now());
}

async function mine(deps: CommandDeps, actor: SlackActor): Promise<CommandReply> {
  const waiting = await waitingFor(deps, actor);
  const mineList = await requestedBy(deps, actor.id, MINE_LIMIT);
  return renderMine(
    {
      waiting: await toLines(deps, waiting.items.slice(0, MINE_LIMIT)),
      waitingTotal: waiting.items.length,
      waitingProblem: waiting.problem,
      requested: await toLines(deps, mineList.items),
      requestedTotal: mineList.total,
    },
    deps.now(),
  );
}

async function show(deps: CommandDeps, actor: SlackActor, args: string[]): Promise<CommandReply> {
  if (args.length !== 1 || !args[0]) {
    return renderUsage(
      args.length === 0 ? '`show` needs the id of a request.' : '`show` takes exactly one request id.',
      USAGE.show,
    );
  }
  const request = await findRequest(deps, args[0]);
  if (!request) return notFound(args[0]);
  // Someone outside the request's channel is told exactly what they would be told of an unknown id.
  if (!(await visibility(deps, actor.id, [request.channel])).sees(request)) return notFound(args[0]);
  const [line] = await toLines(deps, [request]);
  if (!line) return notFound(args[0]);
  const history = await deps.listing.history(request.id, HISTORY_LIMIT);
  return renderShow({ request: line, history: history.events, historyTotal: history.total }, deps.now());
}

async function stats(deps: CommandDeps): Promise<CommandReply> {
  const now = deps.now();
  const windows = await Promise.all(
    [7, 30].map(async (days) => ({
      days,
      ...(await deps.stats.window(now - days * DAY_MS, RUBBER_STAMP_MS)),
    })),
  );
  return renderStats(windows, RUBBER_STAMP_MS / 1000);
}

async function cancel(
  deps: CommandDeps,
  actor: SlackActor,
  args: string[],
  text: string,
): Promise<CommandReply> {
  const refused = await adminGate(deps, actor, 'cancel requests');
  if (refused) return refused;
  if (!args[0]) return renderUsage('`cancel` needs the id of a pending request.', USAGE.cancel);
  // The reason is the rest of the text after the id, spacing kept.
  const reason = text.replace(/^\s*\S+\s+\S+\s*/, '').trim();
  if (reason.length > MAX_DENY_REASON) {
    return renderUsage(
      `The reason is ${reason.length} characters long; keep it under ${MAX_DENY_REASON}.`,
      USAGE.cancel,
    );
  }
  const request = await findRequest(deps, args[0]);
  if (!request) return notFound(args[0]);
  // Masked where it arrives, before it is stored, posted, sent back or audited.
  const masked = reason === '' ? null : redactText(reason).text;
  const result = await deps.approvals.cancel(request.id, actor.id, masked, deps.now());
  const ref = `\`${request.id}\``;
  switch (result.kind) {
    case 'not_found':
      return notFound(args[0]);
    case 'already_decided':
      return renderNotice(`${ref} is already *${result.status}*; only pending requests can be cancelled.`);
    case 'cancelled': {
      const told = result.request.callbackUrl
        ? 'the pipeline is told through its callback (`request.cancelled`)'
        : 'the pipeline sees `cancelled` when it next asks';
      return renderNotice(
        `:leftwards_arrow_with_hook: Cancelled ${ref}. Its card is being updated and ${told}.${reason === '' ? ' Tip: add a reason after the id next time; it is shown on the card and sent to the pipeline.' : ''}`,
      );
    }
  }
}

async function audit(deps: CommandDeps, actor: SlackActor, args: string[]): Promise<CommandReply> {
  const refused = await adminGate(deps, actor, 'verify the audit trail');
  if (refused) return refused;
  if (args.length !== 1 || args[0]?.toLowerCase() !== 'verify') {
    return renderUsage('The only `audit` subcommand here is `verify`.', USAGE.audit);
  }
  const check = await deps.verifyAudit();
  return renderNotice(check.ok ? `:white_check_mark: ${check.text}` : `:rotating_light: ${check.text}`);
}

/**
 * Requests name what they touch, and their cards live in channels a guest may not be in: only full
 * members of the installing workspace read them here (the same people who could vote).
 */
async function memberGate(deps: CommandDeps, actor: SlackActor): Promise<CommandReply | null> {
  try {
    const user = await deps.identity.user(actor.id);
    if (user.isBot || user.isAppUser) return renderNotice('Bots and apps cannot use `/approvals`.');
    if (user.deleted) return renderNotice('Deactivated accounts cannot use `/approvals`.');
    if (!isMember(deps.approvals.workspace, user)) {
      return renderNotice(
        '`/approvals` is only for members of the workspace where Countersign is installed (or of its Enterprise Grid organisation); people from other workspaces, such as Slack Connect partners, cannot use it.',
      );
    }
    if (user.isRestricted || user.isUltraRestricted) {
      return renderNotice(
        'Guest accounts cannot use `/approvals`: approval requests may concern channels you are not in.',
      );
    }
    return null;
  } catch (err) {
    if (!(err instanceof IdentityError)) throw err;
    deps.log.warn('identity lookup failed for /approvals', { user: actor.id, error: err.message });
    return renderNotice(
      ':warning: Countersign could not confirm who you are with Slack just now. Please try again in a moment.',
    );
  }
}

const SUBCOMMANDS = new Set(['list', 'mine', 'show', 'stats', 'cancel', 'audit']);

/** Turns the text after `/approvals` into a private reply. Never returns nothing. */
export async function runCommand(deps: CommandDeps, input: CommandInput): Promise<CommandReply> {
  const problem = textProblem(input.text);
  if (problem) {
    return renderNotice(
      `:warning: The text after \`${COMMAND}\` ${problem.replace(/; send valid UTF-8 text$/, '')}; please type it again.`,
    );
  }
  const words = input.text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const sub = (words[0] ?? 'help').toLowerCase();
  const args = words.slice(1);
  if (SUBCOMMANDS.has(sub)) {
    const refused = await memberGate(deps, input.actor);
    if (refused) return refused;
  }
  switch (sub) {
    case 'help':
      return renderHelp();
    case 'list':
      return list(deps, input.actor, args);
    case 'mine':
      return args.length > 0
        ? renderUsage('`mine` takes no arguments.', USAGE.mine)
        : mine(deps, input.actor);
    case 'show':
      return show(deps, input.actor, args);
    case 'stats':
      return args.length > 0 ? renderUsage('`stats` takes no arguments.', USAGE.stats) : stats(deps);
    case 'cancel':
      return cancel(deps, input.actor, args, input.text);
    case 'audit':
      return audit(deps, input.actor, args);
    default:
      return renderHelp(
        `\`${COMMAND} ${clip(words[0] ?? '', 'inline', 40)}\` is not a command I know. Here is what I can do:`,
      );
  }
}

/**
 * `/approvals`: acks at once (Slack allows 3 s), then answers privately through the response_url,
 * so slow Slack lookups (user groups) or a long audit verification never make the command time out.
 */
export function registerCommands(app: App, deps: CommandDeps): void {
  app.command(COMMAND, async ({ command, ack, respond }) => {
    await ack();
    const actor: SlackActor = {
      id: command.user_id,
      teamId: command.team_id ?? null,
      enterpriseId: command.enterprise_id ?? null,
    };
    let reply: CommandReply;
    try {
      reply = await runCommand(deps, { actor, text: command.text ?? '' });
    } catch (err) {
      deps.log.error('/approvals failed', { user: command.user_id, text: command.text, error: err });
      reply = renderNotice(
        ':warning: Something went wrong on the Countersign server; the error is logged. Please try again.',
      );
    }
    try {
      await respond({ response_type: 'ephemeral', replace_original: false, ...reply });
    } catch (err) {
      deps.log.warn('could not answer /approvals through its response_url', {
        user: command.user_id,
        error: err,
      });
    }
  });
}
