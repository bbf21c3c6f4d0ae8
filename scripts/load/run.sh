#!/usr/bin/env bash
# Load test of POST /v1/comments against the release build on loopback, with wrk.
#   scripts/load/run.sh sqlite            # a fresh SQLite file
#   scripts/load/run.sh postgres URL      # a fresh database on the server of URL (role must CREATEDB)
# Environment: DURATION (default 20s), CONNECTIONS (32), THREADS (1), SYNCHRONOUS (full),
# RATES (fixed rates in comments/s measured after the maximum, default "1000 2000"; "" for none).
# RAW (1): also run `cargo bench --bench intake`, intake without HTTP on the same backend.
# Prints, from one server: the maximum rate, latency at each fixed rate, and the no-op route
# (GET /healthz: HTTP, routing, logging and metrics, no database) for comparison; then the
# database side alone (store, and read + score) from the intake bench.
set -euo pipefail
cd "$(dirname "$0")/../.."
backend=${1:-sqlite}
duration=${DURATION:-20s}
connections=${CONNECTIONS:-32}
threads=${THREADS:-1}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release -q
python3 scripts/load/bodies.py target/load/bodies.jsonl
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
case $backend in
  sqlite) export VIGIE_DATABASE_URL="$work/load.db" ;;
  postgres)
    admin=${2:?postgres needs the URL of a server}
    name=vigie_load_$$
    psql "$admin" -qc "CREATE DATABASE $name"
    export VIGIE_DATABASE_URL="${admin%/*}/$name"
    trap 'kill $server 2>/dev/null || true; sleep 1; psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"; rm -rf "$work"' EXIT ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac
export VIGIE_SQLITE_SYNCHRONOUS=${SYNCHRONOUS:-full}
export VIGIE_LISTEN=127.0.0.1:${PORT:-18080}
export VIGIE_LOG_LEVEL=warn
VIGIE_KEY=$(target/release/vigie keys create --site load --role ingest --quiet)
export VIGIE_KEY VIGIE_BODIES=target/load/bodies.jsonl VIGIE_RUN=$$
target/release/vigie serve & server=$!
for _ in $(seq 1 50); do curl -sf "http://$VIGIE_LISTEN/healthz" >/dev/null && break; sleep 0.1; done
durability="synchronous=$VIGIE_SQLITE_SYNCHRONOUS"
[ "$backend" = postgres ] && durability="synchronous_commit=$(psql "$VIGIE_DATABASE_URL" -Atc 'SHOW synchronous_commit')"
echo "== $backend, $connections connections, $duration, $durability, maximum rate"
wrk -t"$threads" -c"$connections" -d"$duration" --latency -s scripts/load/intake.lua "http://$VIGIE_LISTEN"
for rate in ${RATES-1000 2000}; do
  echo "== fixed rate: $rate comments/s asked"
  VIGIE_RUN=$$-$rate VIGIE_RATE=$rate VIGIE_CONNECTIONS=$connections VIGIE_THREADS=$threads \
    wrk -t"$threads" -c"$connections" -d"$duration" -s scripts/load/intake.lua "http://$VIGIE_LISTEN"
done
echo "== no-op route GET /healthz, same server"
wrk -t"$threads" -c"$connections" -d"$duration" --latency "http://$VIGIE_LISTEN/healthz" | grep -E "Requests/sec|99%|50%"
if [ "${RAW:-1}" = 1 ]; then
  kill $server 2>/dev/null || true
  bench_url=""
  [ "$backend" = postgres ] && bench_url=$admin
  VIGIE_BENCH_DATABASE_URL=$bench_url VIGIE_BODIES=target/load/bodies.jsonl \
    cargo bench -q --bench intake 2>/dev/null | grep -v "^$"
fi
