import { monotonicFactory } from 'ulid';

const ulid = monotonicFactory();

/** `req_` followed by a ULID: sortable by creation time, unguessable. */
export function newRequestId(now: number): string {
  return `req_${ulid(now)}`;
}
