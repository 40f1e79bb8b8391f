import { AUDIT_EVENT_COLUMNS, type AuditReader } from '../store/audit-reader.js';
import type { StoredEventContent } from './chain.js';

/** One stored event as exported: what was hashed, plus the chain link, hash and signature. */
export interface ExportRow extends StoredEventContent {
  prev_hash: string;
  hash: string;
  signature: string | null;
}

/** The columns of an export, in the order the reader gives them. */
export const EXPORT_COLUMNS = AUDIT_EVENT_COLUMNS;

export type Since = { seq: number } | { at: number };

/**
 * `--since`: a sequence number (events after it, so the last seq already exported continues a
 * previous export) or an ISO-8601 time (events at or after it). Returns an error text otherwise.
 */
export function parseSince(text: string): Since | string {
  const t = text.trim();
  if (/^\d{1,15}$/.test(t)) return { seq: Number(t) };
  const at = /^\d{4}-\d{2}-\d{2}/.test(t) ? Date.parse(t) : Number.NaN;
  if (Number.isNaN(at))
    return `--since takes an ISO-8601 time (2025-01-31 or 2025-01-31T09:00:00Z) or a sequence number, got "${text}"`;
  return { at };
}

/** Streams events in seq order (never the whole table in memory). */
export async function* exportRows(reader: AuditReader, since: Since | null): AsyncIterable<ExportRow> {
  const from = since === null ? {} : 'seq' in since ? { afterSeq: since.seq } : { atOrAfter: since.at };
  for await (const batch of reader.events(from)) {
    for (const r of batch) {
      yield {
        seq: r[0],
        at: r[1],
        type: r[2],
        request_id: r[3],
        actor: r[4],
        data: r[5],
        prev_hash: r[6],
        hash: r[7],
        key_id: r[8],
        signature: r[9],
      } as ExportRow;
    }
  }
}

function isoOf(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/**
 * One JSON Lines record. `at` is the ISO time that was hashed; `data` is spliced in as stored, so
 * the exact hashed bytes survive (re-serialising could reorder integer-like keys).
 */
export function toJsonLine(row: ExportRow): string {
  let data = row.data;
  try {
    JSON.parse(data);
  } catch {
    data = JSON.stringify(data); // not JSON (a damaged row): keep the line valid, as a string
  }
  return `{"seq":${JSON.stringify(row.seq)},"at":${JSON.stringify(isoOf(row.at))},"type":${JSON.stringify(row.type)},"request_id":${JSON.stringify(row.request_id)},"actor":${JSON.stringify(row.actor)},"data":${data},"prev_hash":${JSON.stringify(row.prev_hash)},"hash":${JSON.stringify(row.hash)},"key_id":${JSON.stringify(row.key_id)},"signature":${JSON.stringify(row.signature)}}\n`;
}

/** RFC 4180: a field with a comma, quote, CR or LF is quoted and its quotes doubled; null is empty. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_HEADER = `${EXPORT_COLUMNS.join(',')}\r\n`;

export function toCsvLine(row: ExportRow): string {
  return `${EXPORT_COLUMNS.map((c) => csvField(c === 'at' ? isoOf(row.at) : row[c])).join(',')}\r\n`;
}
