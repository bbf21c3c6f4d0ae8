#!/usr/bin/env bash
# Load test of Coral Talk's external moderation phase (POST /v1/integrations/coral/moderate)
# against the release build on loopback, with wrk: signed requests, real comment texts, each
# scored and recorded. Coral aborts a phase after its timeout (200 ms in its admin form by
# default): read p99 against that.
#   scripts/load/coral.sh sqlite            # a fresh SQLite file
#   scripts/load/coral.sh postgres URL      # a fresh database on the server of URL (CREATEDB)
# Environment: DURATION (20s), CONNECTIONS (16), RATES (fixed rates in requests/s, "50 200 1000";
# "" for none), CARGO_TARGET_DIR (where the release build is).
set -euo pipefail
cd "$(dirname "$0")/../.."
backend=${1:-sqlite}
duration=${DURATION:-20s}
connections=${CONNECTIONS:-16}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/vigie
mkdir -p target/load
python3 scripts/load/bodies.py target/load/bodies.jsonl
secret=ssc_load_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
python3 scripts/load/coral_bodies.py "$secret" target/load/bodies.jsonl target/load/coral.tsv 200000
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
case $backend in
  sqlite) export VIGIE_DATABASE_URL="$work/load.db" ;;
  postgres)
    admin=${2:?postgres needs the URL of a server}
    name=vigie_coral_load_$$
    psql "$admin" -qc "CREATE DATABASE $name"
    export VIGIE_DATABASE_URL="${admin%/*}/$name"
    trap 'kill $server 2>/dev/null || true; sleep 1; psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"; rm -rf "$work"' EXIT ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac
export VIGIE_LISTEN=127.0.0.1:${PORT:-18081}
export VIGIE_LOG_LEVEL=warn
admin_key=$("$bin" keys create --site load --role admin --quiet)
"$bin" serve & server=$!
for _ in $(seq 1 50); do curl -sf "http://$VIGIE_LISTEN/healthz" >/dev/null && break; sleep 0.1; done
curl -sf -X PATCH "http://$VIGIE_LISTEN/v1/site" -H "Authorization: Bearer $admin_key" \
  -H 'Content-Type: application/json' -d '{"moderation_mode": "post"}' >/dev/null
curl -sf -X PUT "http://$VIGIE_LISTEN/v1/integrations/coral" -H "Authorization: Bearer $admin_key" \
  -H 'Content-Type: application/json' -d "{\"secrets\": [\"$secret\"]}" >/dev/null
export VIGIE_CORAL_REQUESTS=target/load/coral.tsv VIGIE_CONNECTIONS=$connections
echo "== Coral phase, $backend, $connections connections, $duration, coral_deadline_ms=$("$bin" config | sed -n 's/^coral_deadline_ms = //p')"
for rate in ${RATES-50 200 1000}; do
  echo "== fixed rate: $rate requests/s asked"
  VIGIE_RATE=$rate VIGIE_OFFSET=$rate wrk -t1 -c"$connections" -d"$duration" -s scripts/load/coral.lua \
    "http://$VIGIE_LISTEN" | grep -E "Requests/sec|p50=|errors|Non-2xx"
done
echo "== maximum rate"
VIGIE_OFFSET=7 wrk -t1 -c"$connections" -d"$duration" -s scripts/load/coral.lua "http://$VIGIE_LISTEN" \
  | grep -E "Requests/sec|p50=|errors|Non-2xx"
answered=$(curl -s "http://$VIGIE_LISTEN/metrics" | grep -E '^vigie_http_requests_total.*coral/moderate' || true)
echo "== requests counted by /metrics:"; echo "$answered"
