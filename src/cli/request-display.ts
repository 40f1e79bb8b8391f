import type { DecidedRequest, RequestObject, VoteObject } from '../client/index.js';

/** Exit codes of `countersign request` by outcome. */
export const EXIT = { approved: 0, denied: 1, expired: 2, cancelled: 3, error: 4, sigint: 130, sigterm: 143 };

/** "1h 02m", "4m 05s", "12s". */
export function formatLeft(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(sec)}s`;
  return `${sec}s`;
}

const approvals = (r: RequestObject) => r.votes.filter((v) => v.decision === 'approve').length;

export function what(r: RequestObject): string {
  return `${r.action} "${r.title}"`;
}

function progress(r: RequestObject): string {
  return `${approvals(r)}/${r.min_approvals} approval${r.min_approvals === 1 ? '' : 's'}`;
}

/** Width used when the terminal reports none (0 or undefined columns, as some CI terminals do). */
const FALLBACK_COLUMNS = 80;

/** The live status line on a terminal (without the leading \r), cut to the terminal's width. */
export function statusLine(r: RequestObject, nowMs: number, columns: number | undefined): string {
  const width = columns !== undefined && columns > 0 ? columns : FALLBACK_COLUMNS;
  const left = formatLeft(Date.parse(r.expires_at) - nowMs);
  const parts = [`Waiting for approval of ${what(r)}`, progress(r), `${left} left`];
  if (r.slack_url) parts.push(r.slack_url);
  const line = parts.join(' · ');
  return line.length > width - 1 ? `${line.slice(0, Math.max(10, width - 2))}…` : line;
}

/** A voter as people know them: the Slack name, else the user ID. */
export function who(v: Pick<VoteObject, 'user_id' | 'name'>): string {
  return v.name?.trim() ? v.name.trim() : v.user_id;
}

/** Who closed a request, in words: a voter's name, the pipeline, the expiry, or a Slack user ID. */
function closedBy(r: RequestObject): string {
  const by = r.decided_by;
  if (!by) return 'unknown';
  if (by.startsWith('client:')) return `the client ${by.slice('client:'.length)}`;
  const voter = r.votes.find((v) => v.user_id === by);
  return voter ? who(voter) : by;
}

/** Why Slack cannot show the request (CONTRACT §8): printed, and the CLI exits 4. */
export function deliveryErrorLines(r: RequestObject): string[] {
  const e = r.delivery_error;
  if (!e) return [];
  return [
    `Slack cannot show ${r.id}: ${e.message} (${e.code}).`,
    'Delivery resumes by itself once this is fixed.',
  ];
}

/** A plain log line for a pending request (no terminal). */
export function pendingLog(r: RequestObject, nowMs: number): string {
  const left = formatLeft(Date.parse(r.expires_at) - nowMs);
  return `Still pending: ${progress(r)}, ${left} left${r.slack_url ? ` · ${r.slack_url}` : ''}`;
}

export function voteLog(r: RequestObject, index: number): string {
  const v = r.votes[index];
  if (!v) return '';
  const verb = v.decision === 'approve' ? 'approved' : 'denied';
  return `Vote: ${who(v)} ${verb}${v.reason ? ` ("${v.reason}")` : ''} (${progress(r)})`;
}

function approvers(r: RequestObject): string {
  const names = r.votes.filter((v) => v.decision === 'approve').map(who);
  if (names.length > 0) return names.join(', ');
  return r.decided_by === 'policy' ? `policy rule ${r.policy.rule ?? '(defaults)'}` : closedBy(r);
}

/** The final lines for an outcome, and its exit code. */
export function outcome(r: DecidedRequest): { code: number; lines: string[] } {
  switch (r.status) {
    case 'approved':
      return { code: EXIT.approved, lines: [`Approved by ${approvers(r)} (${r.id}).`] };
    case 'denied': {
      const denier = r.votes.find((v) => v.decision === 'deny');
      const by = denier ? who(denier) : closedBy(r);
      return {
        code: EXIT.denied,
        lines: [`Denied by ${by} (${r.id}).`, `Reason: ${r.reason ?? '(none given)'}`],
      };
    }
    case 'expired':
      return {
        code: EXIT.expired,
        lines: [`Expired: ${r.reason ?? 'nobody decided before the deadline'} (${r.id}).`],
      };
    case 'cancelled':
      return {
        code: EXIT.cancelled,
        lines: [`Cancelled by ${closedBy(r)}${r.reason ? `: ${r.reason}` : ''} (${r.id}).`],
      };
  }
}
