import { createHash } from 'node:crypto';
import { basename } from 'node:path';

/** Longest action the API accepts (CONTRACT §3). */
const MAX_ACTION = 100;

/**
 * One part of an action name: ASCII capitals become lower case, then every character outside
 * `a-z 0-9 . _ : -` becomes `_` (so `GitHub` → `github`, `my server` → `my_server`).
 */
export function actionPart(text: string): string {
  const lower = text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return Array.from(lower, (c) => (/^[a-z0-9._:-]$/.test(c) ? c : '_')).join('') || '_';
}

/** The gateway's default NAME: the upstream command's base name (`/usr/bin/node` → `node`). */
export function defaultServerName(command: string): string {
  return actionPart(basename(command).replace(/\.(exe|cmd|bat)$/i, ''));
}

/**
 * The action of a gated call: `mcp.<NAME>.<T>`. An action longer than the API allows keeps its
 * start and ends with 8 hex digits of the full name's SHA-256, so two long names stay apart.
 */
export function mcpAction(server: string, tool: string): string {
  return fitAction(`mcp.${actionPart(server)}.${actionPart(tool)}`);
}

/** The action of an agent's permission prompt (`approval_prompt`): `agent.<tool>`, e.g. `agent.bash`. */
export function agentAction(toolName: string): string {
  return fitAction(`agent.${actionPart(toolName)}`);
}

function fitAction(action: string): string {
  if (action.length <= MAX_ACTION) return action;
  const hash = createHash('sha256').update(action).digest('hex').slice(0, 8);
  return `${action.slice(0, MAX_ACTION - 9)}-${hash}`;
}
