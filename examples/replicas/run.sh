#!/usr/bin/env bash
# Three Countersign replicas on one PostgreSQL database, behind a round-robin load balancer.
#
#   DATABASE_URL=postgres://user@127.0.0.1:5432/countersign examples/replicas/run.sh
#
# Slack and the clients come from the environment or .env in the current folder, as for
# `npm start` (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET or SLACK_APP_TOKEN, COUNTERSIGN_CLIENTS,
# COUNTERSIGN_DEFAULT_CHANNEL, and AUDIT_SIGNING_KEY: every replica must sign with the same key).
# Replicas listen on 3001-3003 (REPLICA_PORTS="3001 3002 3003" to change them), the balancer on
# PORT (default 3000): point Slack's request URL and your pipelines at the balancer. In Socket
# Mode Slack spreads envelopes over the replicas' connections itself; the balancer is then only
# for the pipeline API.
# Ctrl-C stops them all. Try `kill -9` on one replica: another takes over its work within 30 s.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ -f .env ]; then set -a; . ./.env; set +a; fi
: "${DATABASE_URL:?set DATABASE_URL=postgres://... (every replica uses the same database)}"
: "${AUDIT_SIGNING_KEY:?set AUDIT_SIGNING_KEY (a PEM or a path): every replica must sign with the same key}"
test -f "$root/dist/src/main.js" || (cd "$root" && npm run build)
# Migrate once before starting (the replicas would also do it safely, under an advisory lock).
node "$root/dist/src/cli/main.js" migrate
pids=()
stop() {
  kill "${pids[@]}" 2>/dev/null || true
  wait || true
}
trap 'stop; exit 0' INT TERM
trap stop EXIT
upstreams=()
for port in ${REPLICA_PORTS:-3001 3002 3003}; do
  # Launched as npm start launches it (memory settings: docs/operations.md, "Memory").
  PORT=$port MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072 node --max-semi-space-size=4 "$root/dist/src/main.js" &
  pids+=($!)
  upstreams+=("http://127.0.0.1:$port")
done
node "$here/proxy.mjs" "${PORT:-3000}" "${upstreams[@]}" &
pids+=($!)
wait
