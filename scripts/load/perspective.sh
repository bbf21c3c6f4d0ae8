#!/usr/bin/env bash
# Load test of the Perspective API drop-in (POST /perspective/v1alpha1/comments:analyze, the call
# Coral Talk makes for every new comment when its toxicity filter is on) against the release
# build on loopback, with wrk: Coral's own request bodies over real French and English comments,
# `?key=` an ingest key. Then `comments:suggestscore` (moderators' decisions sent back) at its
# maximum rate. Coral aborts the call after its `PERSPECTIVE_TIMEOUT` (800 ms by default in Coral
# 9's server configuration) and publishes without a score: read p99 against that.
#   scripts/load/perspective.sh sqlite            # a fresh SQLite file
#   scripts/load/perspective.sh postgres URL      # a fresh database on the server of URL (CREATEDB)
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
python3 scripts/load/perspective_bodies.py target/load/perspective_analyze.jsonl \
  target/load/perspective_suggest.jsonl
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
case $backend in
  sqlite) export VIGIE_DATABASE_URL="$work/load.db" ;;
  postgres)
    admin=${2:?postgres needs the URL of a server}
    name=vigie_perspective_load_$$
    psql "$admin" -qc "CREATE DATABASE $name"
    export VIGIE_DATABASE_URL="${admin%/*}/$name"
    trap 'kill $server 2>/dev/null || true; sleep 1; psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"; rm -rf "$work"' EXIT ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac
export VIGIE_LISTEN=127.0.0.1:${PORT:-18082}
export VIGIE_LOG_LEVEL=warn
key=$("$bin" keys create --site load --role ingest --quiet)
"$bin" serve & server=$!
for _ in $(seq 1 50); do curl -sf "http://$VIGIE_LISTEN/healthz" >/dev/null && break; sleep 0.1; done
export VIGIE_PERSPECTIVE_KEY=$key VIGIE_CONNECTIONS=$connections
export VIGIE_PERSPECTIVE_BODIES=target/load/perspective_analyze.jsonl
echo "== comments:analyze, $backend, $connections connections, $duration"
for rate in ${RATES-50 200 1000}; do
  echo "== fixed rate: $rate requests/s asked"
  VIGIE_RATE=$rate VIGIE_OFFSET=$rate wrk -t1 -c"$connections" -d"$duration" \
    -s scripts/load/perspective.lua "http://$VIGIE_LISTEN" | grep -E "Requests/sec|p50=|errors|Non-2xx"
done
echo "== maximum rate"
VIGIE_OFFSET=7 wrk -t1 -c"$connections" -d"$duration" -s scripts/load/perspective.lua \
  "http://$VIGIE_LISTEN" | grep -E "Requests/sec|p50=|errors|Non-2xx"
echo "== comments:suggestscore, maximum rate"
VIGIE_OPERATION=comments:suggestscore VIGIE_PERSPECTIVE_BODIES=target/load/perspective_suggest.jsonl \
  VIGIE_OFFSET=3 wrk -t1 -c"$connections" -d"$duration" -s scripts/load/perspective.lua \
  "http://$VIGIE_LISTEN" | grep -E "Requests/sec|p50=|errors|Non-2xx"
echo "== requests counted by /metrics:"
curl -s "http://$VIGIE_LISTEN/metrics" | grep -E '^vigie_perspective_requests_total' || true
