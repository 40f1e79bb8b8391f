#!/usr/bin/env sh
# An agent CLI run headless, whose permission prompts are answered by a person in Slack:
# every tool use the CLI would ask about becomes an approval request (action agent.<tool>,
# e.g. agent.bash), and the agent goes on only with "allow" and the approved input.
#
#   COUNTERSIGN_URL=... COUNTERSIGN_SECRET=whsec_... COUNTERSIGN_REQUESTER_EMAIL=you@example.com \
#     sh examples/mcp/permission-prompt.sh "Clean up the build folder"
#
# The "countersign" server of examples/mcp/.mcp.json is `countersign mcp`; its approval_prompt tool
# answers {"behavior":"allow","updatedInput":{...}} or {"behavior":"deny","message":"..."}.
set -eu
task="${1:?usage: permission-prompt.sh <task for the agent>}"
exec claude -p "$task" \
  --mcp-config examples/mcp/.mcp.json \
  --permission-prompt-tool mcp__countersign__approval_prompt
