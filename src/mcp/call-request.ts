import { escapeText } from '../../blocks/mrkdwn.js';
import type { ApprovalRequestInput, Requester, Risk } from '../client/index.js';
import type { SentCall } from './forward-decision.js';
import { agentAction, mcpAction } from './names.js';

/** The API's limits on the fields these requests fill (CONTRACT §3). */
const MAX_TITLE = 150;
const MAX_SUMMARY = 3000;
const MAX_DESCRIPTION = 800;

export interface RequestSettings {
  requester: Requester;
  ttlSeconds: number;
  risk: Risk;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A summary up to this long (escaped) always fits on the card whole. */
const CARD_SURE_FITS = 2000;

/** The name of the file that holds the whole arguments when the card cannot show them. */
const ARGUMENTS_FILE = 'arguments.json';

/**
 * Pretty JSON for a code block on the card (a ``` inside it would end the block early), and
 * whether it had to be cut to fit.
 */
function codeBlock(value: unknown, max: number): { text: string; clipped: boolean } {
  const note = `\n… (clipped: every argument is in ${ARGUMENTS_FILE}, the file in the card's thread)`;
  // A zero-width space after every backtick that another follows: no run of three is left.
  let pretty = JSON.stringify(value, null, 2).replace(/`(?=`)/g, '`\u200b');
  // Measured as the card shows it: `& < >` are escaped there, up to five characters each.
  const clipped = shownLength(pretty) > max - 8;
  if (clipped) pretty = `${prefixShownWithin(pretty, Math.max(0, max - 8 - note.length))}${note}`;
  return { text: `\`\`\`${pretty}\`\`\``, clipped };
}

/** Length of `text` once escaped for the card's mrkdwn. */
function shownLength(text: string): number {
  return escapeText(text, 'mrkdwn').length;
}

/** The longest prefix of `text` whose escaped form has at most `max` characters. */
function prefixShownWithin(text: string, max: number): string {
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (shownLength(text.slice(0, mid)) <= max) lo = mid;
    else hi = mid - 1;
  }
  return text.slice(0, lo);
}

/**
 * The exact arguments as a unified diff that adds one file: the request's `diff`, which the card
 * previews and uploads whole into its thread. Only when the summary had to cut them: what is
 * forwarded once approved must be there for the reviewer to read, however long.
 */
function argumentsDiff(value: unknown): string {
  const lines = JSON.stringify(value, null, 2).split('\n');
  const head = ['--- /dev/null', `+++ b/${ARGUMENTS_FILE}`, `@@ -0,0 +1,${lines.length} @@`];
  return `${[...head, ...lines.map((l) => `+${l}`)].join('\n')}\n`;
}

/** The summary (intro and arguments) and, when the arguments did not fit in it, the diff holding them. */
function summaryWith(intro: string, value: unknown): { summary: string; diff?: string } {
  const block = codeBlock(value, MAX_SUMMARY - intro.length - 1);
  const summary = `${intro}\n${block.text}`;
  // The card shares its room among its parts and may give the summary less than 3,000: past
  // CARD_SURE_FITS the whole arguments go into the thread as well, clipped or not.
  return block.clipped || shownLength(summary) > CARD_SURE_FITS
    ? { summary, diff: argumentsDiff(value) }
    : { summary };
}

/**
 * The approval request for one `tools/call` through the gateway: action `mcp.<NAME>.<T>`, a title
 * that names the tool, a summary with the tool's description and the pretty-printed arguments (and
 * the whole of them as `diff` when they do not fit), and `context` holding the tool and the exact
 * arguments as JSON text (what is forwarded once approved).
 */
export function toolCallRequest(
  server: string,
  tool: string,
  description: string | null,
  args: Record<string, unknown>,
  settings: RequestSettings,
): SentCall & { action: string } {
  const action = mcpAction(server, tool);
  const what = description?.trim()
    ? clip(description.trim(), MAX_DESCRIPTION)
    : '(the server gives no description)';
  const intro =
    `An AI agent asks to call the MCP tool \`${clip(tool, 100)}\` of the server \`${clip(server, 100)}\`.\n` +
    `*What the tool does:* ${what}\n*Arguments:*`;
  const body: ApprovalRequestInput = {
    action,
    title: clip(`Call ${tool} on ${server}`, MAX_TITLE),
    requester: settings.requester,
    ...summaryWith(intro, args),
    risk: settings.risk,
    context: { mcp_server: server, tool, arguments: JSON.stringify(args) },
    ttl_seconds: settings.ttlSeconds,
  };
  return { action, body: JSON.stringify(body), argumentsKey: 'arguments' };
}

/** The first short text value of an input, to name what a prompt is about in its title. */
function preview(input: Record<string, unknown>): string {
  for (const key of ['command', 'file_path', 'path', 'url', 'pattern']) {
    const v = input[key];
    if (typeof v === 'string' && v.trim() !== '') return v.trim().replace(/\s+/g, ' ');
  }
  return '';
}

/**
 * The approval request for an agent's permission prompt (`approval_prompt`): action
 * `agent.<tool>`, `context` holding the tool name and the exact input as JSON text.
 */
export function promptRequest(
  toolName: string,
  input: Record<string, unknown>,
  settings: RequestSettings,
): SentCall & { action: string } {
  const action = agentAction(toolName);
  const shown = preview(input);
  const intro = `An AI agent asks permission to use the tool \`${clip(toolName, 200)}\` with this input:`;
  const body: ApprovalRequestInput = {
    action,
    title: clip(shown ? `Allow ${toolName}: ${shown}` : `Allow ${toolName}`, MAX_TITLE),
    requester: settings.requester,
    ...summaryWith(intro, input),
    risk: settings.risk,
    context: { tool: toolName, input: JSON.stringify(input) },
    ttl_seconds: settings.ttlSeconds,
  };
  return { action, body: JSON.stringify(body), argumentsKey: 'input' };
}
