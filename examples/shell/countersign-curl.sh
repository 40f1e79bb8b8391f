#!/usr/bin/env bash
# Calls the Countersign API with curl and openssl alone (no Node), signing each call the Standard
# Webhooks way over exactly what CONTRACT §3 says it signs:
#   create   the raw body                                  POST /api/v1/requests
#   get      the request target, e.g. /api/v1/requests/req_...?wait=30
#   cancel   the request target, a line feed, the raw body POST /api/v1/requests/<id>/cancel
#
#   COUNTERSIGN_URL=https://countersign.internal COUNTERSIGN_SECRET=whsec_... \
#     ./countersign-curl.sh create request.json
#   ./countersign-curl.sh get req_01J... [wait-seconds]
#   ./countersign-curl.sh cancel req_01J... ["reason"]
#
# Prints the answer's JSON on stdout; exits 0 on a 2xx, 1 otherwise. Needs curl, openssl, od, jq.
set -euo pipefail

url="${COUNTERSIGN_URL:?set COUNTERSIGN_URL to the base URL of the server}"
secret="${COUNTERSIGN_SECRET:?set COUNTERSIGN_SECRET to the whsec_ secret of this client}"
url="${url%/}"
key_hex="$(printf '%s' "${secret#whsec_}" | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \n')"

# sign <id> <timestamp>: reads the signed payload on stdin, prints the webhook-signature value.
sign() {
  { printf '%s.%s.' "$1" "$2"; cat; } |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | openssl base64 -A |
    sed 's/^/v1,/'
}

# call <method> <target> <signature> <id> <timestamp> [body-file]
call() {
  local args=(--silent --show-error --write-out '\n%{http_code}'
    -X "$1" "$url$2"
    -H "webhook-id: $4" -H "webhook-timestamp: $5" -H "webhook-signature: $3")
  if [ $# -ge 6 ]; then args+=(-H 'content-type: application/json' --data-binary "@$6"); fi
  local out status
  out="$(curl "${args[@]}")"
  status="${out##*$'\n'}"
  printf '%s\n' "${out%$'\n'*}"
  [ "${status:0:1}" = 2 ]
}

id="msg_$(openssl rand -hex 16)"
ts="$(date +%s)"
case "${1:-}" in
  create)
    file="${2:?usage: $0 create <request.json>}"
    sig="$(sign "$id" "$ts" < "$file")"
    call POST /api/v1/requests "$sig" "$id" "$ts" "$file"
    ;;
  get)
    target="/api/v1/requests/${2:?usage: $0 get <id> [wait-seconds]}${3:+?wait=$3}"
    sig="$(printf '%s' "$target" | sign "$id" "$ts")"
    call GET "$target" "$sig" "$id" "$ts"
    ;;
  cancel)
    target="/api/v1/requests/${2:?usage: $0 cancel <id> [reason]}/cancel"
    body="$(mktemp)"
    trap 'rm -f "$body"' EXIT
    jq -cn --arg reason "${3:-}" 'if $reason == "" then {} else {reason: $reason} end' | tr -d '\n' > "$body"
    sig="$({ printf '%s\n' "$target"; cat "$body"; } | sign "$id" "$ts")"
    call POST "$target" "$sig" "$id" "$ts" "$body"
    ;;
  *)
    echo "usage: $0 create <request.json> | get <id> [wait-seconds] | cancel <id> [reason]" >&2
    exit 4
    ;;
esac
