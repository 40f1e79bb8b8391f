import type { ApprovalRequest } from '../core/types.js';

/** When reminder point `index` falls due: `points` are fractions of the TTL elapsed, e.g. [0.5, 0.9]. */
function pointAt(createdAt: number, expiresAt: number, points: number[], index: number): number | null {
  const p = points[index];
  if (p === undefined) return null;
  return createdAt + Math.round((expiresAt - createdAt) * p);
}

export function firstReminderAt(createdAt: number, expiresAt: number, points: number[]): number | null {
  return pointAt(createdAt, expiresAt, points, 0);
}

export function nextReminderAt(
  r: Pick<ApprovalRequest, 'createdAt' | 'expiresAt' | 'reminderPoints'>,
  index: number,
): number | null {
  return pointAt(r.createdAt, r.expiresAt, r.reminderPoints, index);
}
