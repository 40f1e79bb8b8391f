/** The sandbox's policy file: demo approver groups, a two-person rule, and a low-risk rule that auto-approves. */

import { existsSync, writeFileSync } from 'node:fs';
import { CHANNEL } from './people.js';

export const SANDBOX_POLICY = `# The sandbox's policy, written at its first start (format: docs/policy.md).
# Edit it and restart the sandbox to try your own rules; delete it to get this one back.
version: 1

defaults:
  channel: ${CHANNEL.id} # #approvals
  approvers: { users: [], groups: [] } # anyone eligible, except the requester
  min_approvals: 1
  max_ttl_seconds: 86400
  deny_reason_required: true
  reminders: [0.5, 0.9]

rules:
  - name: no-prod-db-drop
    description: Dropping production data is refused outright.
    match: { action: ["db.drop*", "db.truncate*"], environment: production }
    outcome: deny

  - name: prod-db-export
    description: Production data leaving the database needs a DBA (@dba).
    match: { action: "db.export*", environment: production }
    approvers: { groups: [S0DBA] }
    max_ttl_seconds: 3600

  - name: iam-privileged
    description: Risky IAM changes need two people from @security.
    match: { action: "iam.*", risk: [high, critical] }
    approvers: { groups: [S0SECURITY] }
    min_approvals: 2

  - name: staging-deploy-low-risk
    description: Low-risk staging deploys go through at once, and are still audited.
    match: { action: "deploy.*", environment: staging, risk: low }
    outcome: auto_approve

  - name: prod-deploy
    description: Production deploys need someone from @release.
    match: { action: "deploy.*", environment: production }
    approvers: { groups: [S0RELEASE] }

  # Tool calls of agents through the MCP gateway (countersign mcp-proxy --name notes; the demo is
  # examples/mcp/demo.mjs): read-only tools pass at once, wiping is never allowed, the rest waits.
  - name: notes-read-only
    description: Reading notes is harmless; the call is recorded, nobody is asked.
    match: { action: ["mcp.notes.read_*", "mcp.notes.list_*"] }
    outcome: auto_approve

  - name: notes-never-wipe
    description: No agent wipes every note through the gateway.
    match: { action: "mcp.notes.wipe_*" }
    outcome: deny

  - name: agent-tools
    description: Every other tool call of an agent waits for a person.
    match: { action: ["mcp.*", "agent.*"] }
    max_ttl_seconds: 900
`;

/** Writes the sandbox policy at `path` unless a file is already there (the user's edits are kept). */
export function ensurePolicyFile(path: string): void {
  if (!existsSync(path)) writeFileSync(path, SANDBOX_POLICY, { mode: 0o600 });
}
