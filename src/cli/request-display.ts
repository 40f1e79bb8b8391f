import type { DecidedRequest, RequestObject } from '../client/index.js';

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

/** The live status line on a terminal (without the leading \r). */
export function statusLine(r: RequestObject, nowMs: number, columns: number): string {
  const left = formatLeft(Date.parse(r.expires_at) - nowMs);
  const parts = [`Waiting for approval of ${what(r)}`, progress(r), `${left} left`];
  if (r.slack_url) parts.push(r.slack_url);
  const line = parts.join(' · ');
  return line.length > columns - 1 ? `${line.slice(0, Math.max(10, columns - 2))}…` : line;
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
  return `Vote: ${v.user_id} ${verb}${v.reason ? ` ("${v.reason}")` : ''} (${progress(r)})`;
}

function approvers(r: RequestObject): string {
  const ids = r.votes.filter((v) => v.decision === 'approve').map((v) => v.user_id);
  return ids.length > 0 ? ids.join(', ') : (r.decided_by ?? 'policy');
}

/** The final lines for an outcome, and its exit code. */
export function outcome(r: DecidedRequest): { code: number; lines: string[] } {
  switch (r.status) {
    case 'approved':
      return { code: EXIT.approved, lines: [`Approved by ${approvers(r)} (${r.id}).`] };
    case 'denied': {
      const by = r.votes.find((v) => v.decision === 'deny')?.user_id ?? r.decided_by ?? 'unknown';
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
        lines: [`Cancelled by ${r.decided_by ?? 'unknown'}${r.reason ? `: ${r.reason}` : ''} (${r.id}).`],
      };
  }
}
