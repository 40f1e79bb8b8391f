import type { App } from '@slack/bolt';
import { illFormedStrings } from '../core/text-checks.js';
import type { Logger } from '../log.js';

/**
 * Slack payloads carry ids (users, teams, requests in button values and modal metadata) that end
 * up in the database and the audit log. A payload holding a string that cannot be stored (a lone
 * UTF-16 surrogate or a NUL, see core/text-checks.ts) is acknowledged and dropped here, before any
 * listener, so it can neither fail a transaction halfway nor surface as a 500. What people type
 * (the `/approvals` text, the deny modal's fields) is checked where it is read instead, so that
 * they are told what to fix.
 */
export function registerInputGuard(app: App, log: Logger): void {
  app.use(async ({ body, ack, next }) => {
    const { text: _typed, view, ...rest } = body as { text?: unknown; view?: { state?: unknown } };
    const { state: _state, ...viewRest } = view ?? {};
    const issues = illFormedStrings(view === undefined ? rest : { ...rest, view: viewRest });
    if (issues.length === 0) return next();
    log.warn('slack payload dropped: it holds text that cannot be stored', {
      fields: issues.map((i) => i.path).slice(0, 10),
    });
    if (ack) await ack();
  });
}
