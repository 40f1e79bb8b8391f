import { escapeMrkdwn } from '../../blocks/mrkdwn.js';
import { describeProblem, verifyAudit } from '../audit/verify.js';
import type { Logger } from '../log.js';
import type { AuditReader } from '../store/audit-reader.js';
import type { Store } from '../store/store.js';

/** The outcome of `/approvals audit verify`, in words. */
export interface AuditCheck {
  ok: boolean;
  text: string;
}

/**
 * `audit verify` for the slash command: the same verifier as `npx countersign audit verify`, on a
 * read-only connection of its own (the verifier holds its connection in one read transaction
 * while the server keeps writing through the main one).
 */
export function auditVerifier(store: Store, log: Logger): () => Promise<AuditCheck> {
  return async () => {
    let reader: AuditReader | null = null;
    try {
      reader = await store.openAuditReader();
      const result = await verifyAudit(reader);
      const s = result.summary;
      if (result.ok) {
        return {
          ok: true,
          text: `The audit trail verifies: ${s.events} events chained from the first, ${s.signedEvents} signature${s.signedEvents === 1 ? '' : 's'} checked against ${s.keys} registered key${s.keys === 1 ? '' : 's'}, ${s.checkpoints} checkpoint${s.checkpoints === 1 ? '' : 's'}. Head: #${s.head.seq} \`${s.head.hash.slice(0, 16)}…\``,
        };
      }
      log.error('audit verify from Slack found a bad event', { problem: result.problem });
      return {
        ok: false,
        text: `The audit trail does NOT verify. First bad event: ${escapeMrkdwn(describeProblem(result.problem))}. The ${s.events} events before it hold. Run \`npx countersign audit verify\` on the server for the full report.`,
      };
    } catch (err) {
      log.error('audit verify from Slack failed', { error: err });
      return {
        ok: false,
        text: `The audit trail could not be read for verification: ${escapeMrkdwn((err as Error).message)}`,
      };
    } finally {
      await reader?.close();
    }
  };
}
