import { type Placeholder, sql } from 'drizzle-orm';

/** A named placeholder of a prepared statement. */
export const p = (name: string): Placeholder => sql.placeholder(name);

/** The columns `fields` sets (undefined values are left out, as drizzle does): the cache key of its statement. */
export function columnsOf(fields: object): string[] {
  const out: string[] = [];
  for (const [k, value] of Object.entries(fields)) if (value !== undefined) out.push(k);
  return out;
}

/** Placeholders named like the columns. */
export function placeholders(columns: readonly string[]): Record<string, Placeholder> {
  return Object.fromEntries(columns.map((k) => [k, p(k)]));
}

/** The columns of an audit event, both stores (`AuditEventRow`), each set from the placeholder of its name. */
export const AUDIT_EVENT_COLUMNS = [
  'seq',
  'at',
  'type',
  'requestId',
  'actor',
  'data',
  'prevHash',
  'hash',
  'keyId',
  'signature',
] as const;
