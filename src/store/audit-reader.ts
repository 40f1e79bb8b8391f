/**
 * The audit tables read on one consistent snapshot (a read transaction of a connection of its own),
 * for `audit verify` and `audit export`, whichever store holds them.
 */
export interface AuditReader {
  /** Where the log is read from, for messages. */
  readonly where: string;
  /** Every registered key, oldest first. */
  keys(): Promise<{ key_id: string; public_key: string; created_at: number }[]>;
  /** The data (canonical JSON) of the latest event of one of `types`. */
  lastData(types: string[]): Promise<string | null>;
  /** Every checkpoint row, by seq then id. */
  checkpoints(): Promise<AuditCheckpointRow[]>;
  maxSeq(): Promise<number>;
  /**
   * Events in seq order, in batches, each event an array in `AUDIT_EVENT_COLUMNS` order with the
   * values exactly as stored (a damaged row may hold anything).
   */
  events(from?: { afterSeq?: number; atOrAfter?: number }): AsyncIterable<unknown[][]>;
  event(seq: number): Promise<{ type: string; key_id: string | null } | null>;
  close(): Promise<void>;
}

export interface AuditCheckpointRow {
  id: number;
  seq: number;
  head_hash: string;
  at: number;
  key_id: string;
  signature: string;
}

export const AUDIT_EVENT_COLUMNS = [
  'seq',
  'at',
  'type',
  'request_id',
  'actor',
  'data',
  'prev_hash',
  'hash',
  'key_id',
  'signature',
] as const;

/** Events per batch of `AuditReader.events`. */
export const AUDIT_BATCH = 4096;

/** A database that cannot be read as a Countersign audit log; the message says how to fix it. */
export class AuditDatabaseError extends Error {}

export const AUDIT_TABLES = ['audit_events', 'audit_keys', 'audit_checkpoints'];
