import type { outbox } from './schema.js';

/** A row of `outbox` as the worker sees it (the same fields in both dialects). */
export type OutboxRow = typeof outbox.$inferSelect;
