#!/usr/bin/env bash
# Pauses a deploy until it is approved in Slack, then deploys exactly what was approved.
#
#   COUNTERSIGN_URL=https://countersign.internal COUNTERSIGN_SECRET=whsec_... \
#   DEPLOY_REQUESTER=ana@example.com ./deploy-with-approval.sh web 2.3.1
#
# The requester is the person accountable for the deploy, as Slack knows them: DEPLOY_REQUESTER
# (their work email, the one on their Slack profile) or DEPLOY_REQUESTER_SLACK_ID (U...). Slack must
# find them, or they could approve their own deploy; a git or GitHub noreply address never matches.
#
# Needs: node 20, jq, sha256sum, and the countersign CLI: one file, countersign.mjs, beside this
# script (or at COUNTERSIGN_CLI_FILE). Get it from your own server:
#   curl -fsSL "$COUNTERSIGN_URL/cli/countersign.mjs" -o countersign.mjs
# COUNTERSIGN_CLI overrides the whole command (e.g. "node /opt/countersign/dist/src/cli/main.js").
set -euo pipefail
cli_file="${COUNTERSIGN_CLI_FILE:-$(dirname "$0")/countersign.mjs}"
if [ -z "${COUNTERSIGN_CLI:-}" ] && [ ! -f "$cli_file" ]; then
  echo "no countersign CLI at $cli_file: curl -fsSL \"\$COUNTERSIGN_URL/cli/countersign.mjs\" -o $cli_file" >&2
  exit 4
fi
read -r -a countersign <<< "${COUNTERSIGN_CLI:-node $cli_file}"

service="${1:?usage: $0 <service> <version>}"
version="${2:?usage: $0 <service> <version>}"
requester_email="${DEPLOY_REQUESTER:-}"
requester_slack_id="${DEPLOY_REQUESTER_SLACK_ID:-}"
if [ -z "$requester_email" ] && [ -z "$requester_slack_id" ]; then
  echo "set DEPLOY_REQUESTER to the requester's work email (as on their Slack profile) or DEPLOY_REQUESTER_SLACK_ID to their Slack member ID (U...)" >&2
  exit 4
fi
case "$requester_email" in
  *@users.noreply.github.com | *noreply*)
    echo "DEPLOY_REQUESTER=$requester_email is a noreply address that no Slack account has; use the person's work email" >&2
    exit 4 ;;
esac
commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

# 1. Describe the change in a request body. Given whole with --file, the CLI sends these exact
#    bytes, so the server's payload_sha256 is this file's SHA-256.
jq -n --arg service "$service" --arg version "$version" --arg email "$requester_email" \
  --arg slack_id "$requester_slack_id" --arg commit "$commit" '{
    action: "deploy.production",
    title: "Deploy \($service) \($version) to production",
    requester: ({} + (if $email != "" then { email: $email } else {} end)
                   + (if $slack_id != "" then { slack_user_id: $slack_id } else {} end)),
    environment: "production",
    risk: "high",
    resource: $service,
    ttl_seconds: 3600,
    context: { service: $service, version: $version, commit: $commit }
  }' > "$workdir/request.json"

# 2. Ask and wait. Ctrl-C asks whether to cancel the request; in CI, --cancel-on-interrupt
#    withdraws it when the job is stopped.
set +e
"${countersign[@]}" request --file "$workdir/request.json" --wait --json --cancel-on-interrupt \
  > "$workdir/outcome.json"
code=$?
set -e

case "$code" in
  0) echo "approved" ;;
  1) echo "denied: $(jq -r '.reason' "$workdir/outcome.json")" >&2; exit 1 ;;
  2) echo "nobody approved in time" >&2; exit 2 ;;
  3) echo "the request was cancelled" >&2; exit 3 ;;
  *) echo "countersign failed (exit $code); not deploying" >&2; exit "$code" ;;
esac

# 3. Deploy exactly what was approved: the approved payload must be this very file.
approved_sha="$(jq -r '.payload_sha256' "$workdir/outcome.json")"
local_sha="$(sha256sum "$workdir/request.json" | cut -d' ' -f1)"
if [ "$approved_sha" != "$local_sha" ]; then
  echo "approved payload $approved_sha is not the request $local_sha; not deploying" >&2
  exit 4
fi
deploy_version="$(jq -r '.context.version' "$workdir/request.json")"
echo "deploying $service $deploy_version (approved by $(jq -r '[.votes[] | .name // .user_id] | join(", ")' "$workdir/outcome.json"))"
# ./scripts/deploy.sh "$service" "$deploy_version"
