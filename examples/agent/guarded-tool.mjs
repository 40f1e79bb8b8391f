// An AI agent's privileged tool that runs only after a person approves this exact call in Slack.
//
//   COUNTERSIGN_URL=https://countersign.internal COUNTERSIGN_SECRET=whsec_... \
//     node examples/agent/guarded-tool.mjs customers s3://analytics-exports
//
// In this repository `countersign` resolves to the package itself. In your agent's project, install
// the client from a file you control (no registry involved), then import it the same way:
//   curl -fsSL https://countersign.internal/cli/countersign.mjs -o vendor/countersign.mjs
//   import { Countersign } from './vendor/countersign.mjs';   // the one-file client, or:
//   npm pack <countersign checkout>/dist/client-package && npm install ./countersign-0.1.0.tgz
//
// `requireApproval(countersign, tool, opts)` wraps any tool function of your agent framework: the
// model calls the wrapped tool as usual; it gets the tool's result after an approval, or a message
// saying why the tool did not run (with the reviewer's deny reason) that it can act on.
import { pathToFileURL } from 'node:url';
import { Countersign, CountersignError, payloadSha256 } from 'countersign';

/**
 * @param {Countersign} countersign
 * @param {{ name: string, action: string, risk?: 'low'|'medium'|'high'|'critical',
 *           title: (args: any) => string, run: (args: any) => Promise<unknown> }} tool
 * @param {{ requester: { email?: string, slack_user_id?: string, name?: string }, timeoutMs?: number }} opts
 */
export function requireApproval(countersign, tool, { requester, timeoutMs = 15 * 60_000 }) {
  return async function guardedTool(args, { callId } = {}) {
    // The exact bytes the reviewers approve. The tool later runs with the arguments parsed back
    // from these bytes, and only if the approved payload_sha256 is their hash.
    const body = JSON.stringify({
      action: tool.action,
      title: tool.title(args),
      requester,
      risk: tool.risk ?? 'high',
      summary: `An AI agent asks to call \`${tool.name}\` with:\n\`\`\`${JSON.stringify(args, null, 2)}\`\`\``,
      context: { tool: tool.name, args: JSON.stringify(args) },
      ttl_seconds: Math.max(10, Math.ceil(timeoutMs / 1000)),
    });
    let outcome;
    try {
      // The tool call id as idempotency key: a retried call finds its request, not a second card.
      const request = await countersign.requestApproval(
        body,
        callId ? { idempotencyKey: `tool-${callId}` } : {},
      );
      console.error(`[countersign] waiting for approval of ${request.id} ${request.slack_url ?? ''}`);
      outcome = await countersign.waitForDecision(request.id, { timeoutMs: timeoutMs + 60_000 });
    } catch (err) {
      if (!(err instanceof CountersignError)) throw err;
      return {
        ok: false,
        error: `The approval service failed (${err.code}): ${err.message}. The tool did not run.`,
      };
    }
    if (outcome.status !== 'approved') return { ok: false, error: refusal(outcome) };
    if (outcome.payload_sha256 !== payloadSha256(body)) {
      return { ok: false, error: 'The approved request is not this call. The tool did not run.' };
    }
    const approvedArgs = JSON.parse(JSON.parse(body).context.args);
    return { ok: true, result: await tool.run(approvedArgs) };
  };
}

/** What the model is told when the tool did not run: plain words it can act on. */
function refusal(outcome) {
  switch (outcome.status) {
    case 'denied': {
      const denier = outcome.votes.find((v) => v.decision === 'deny');
      const by = denier?.name ?? denier?.user_id ?? 'a reviewer';
      return (
        `A human reviewer (${by}) denied this call: "${outcome.reason ?? 'no reason given'}". ` +
        'The tool did not run. Do not retry the same call; tell the user, and change the plan to address the reason.'
      );
    }
    case 'expired':
      return 'Nobody approved this call in time, so the tool did not run. Ask the user whether to try again later.';
    default:
      return `The approval request was ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''}. The tool did not run.`;
  }
}

// A runnable demo: one privileged tool and one call, as a model would make it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const missing = ['COUNTERSIGN_URL', 'COUNTERSIGN_SECRET'].filter((name) => !process.env[name]?.trim());
  if (missing.length > 0) {
    console.error(
      `guarded-tool: set ${missing.join(' and ')} first: the Countersign server's base URL (e.g. ` +
        "http://localhost:3000) and this agent's whsec_... secret (its entry in the server's COUNTERSIGN_CLIENTS).",
    );
    process.exit(2);
  }
  const countersign = new Countersign({
    url: process.env.COUNTERSIGN_URL,
    secret: process.env.COUNTERSIGN_SECRET,
  });
  const exportTable = requireApproval(
    countersign,
    {
      name: 'export_table',
      action: 'db.export',
      risk: 'high',
      title: (a) => `Export the ${a.table} table to ${a.bucket}`,
      // The privileged work itself; here it only says what it would do.
      run: async (a) => `exported ${a.table} to ${a.bucket}`,
    },
    { requester: { email: process.env.AGENT_REQUESTER_EMAIL ?? 'alice@example.com', name: 'Support agent' } },
  );
  const [table = 'customers', bucket = 's3://analytics-exports'] = process.argv.slice(2);
  const result = await exportTable({ table, bucket }, { callId: process.env.TOOL_CALL_ID });
  // This is what goes back to the model as the tool result.
  console.log(JSON.stringify(result));
}
