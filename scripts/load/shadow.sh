#!/usr/bin/env bash
# What a shadow model costs intake: POST /v1/comments with wrk on one server, first without a
# shadow model, then with one (a copy of the shipped model registered and put in shadow, so
# every comment is scored twice and a shadow_scores row is written in its transaction).
#   scripts/load/shadow.sh sqlite            # a fresh SQLite file
#   scripts/load/shadow.sh postgres URL      # a fresh database on the server of URL (CREATEDB)
# Environment: DURATION (default 10s), CONNECTIONS (32), VIGIE_BIN (a built binary; default:
# `cargo build --release` then the release binary of CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
backend=${1:-sqlite}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
if [ -z "${VIGIE_BIN:-}" ]; then
  cargo build --release -q --bin vigie
  VIGIE_BIN=${CARGO_TARGET_DIR:-target}/release/vigie
fi
work=$(mktemp -d)
python3 scripts/load/bodies.py "$work/bodies.jsonl" >/dev/null
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
case $backend in
  sqlite) export VIGIE_DATABASE_URL="$work/load.db" ;;
  postgres)
    admin=${2:?postgres needs the URL of a server}
    name=vigie_shadow_$$
    psql "$admin" -qc "CREATE DATABASE $name"
    export VIGIE_DATABASE_URL="${admin%/*}/$name"
    trap 'kill $server 2>/dev/null || true; sleep 1; psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"; rm -rf "$work"' EXIT ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac
# the shadow model: the shipped one under another version (its card no longer matches: left out)
mkdir -p "$work/models/shadow"
cp models/"$(cat models/DEFAULT)"/* "$work/models/shadow/"
rm "$work/models/shadow/MODEL_CARD.md"
python3 - "$work/models/shadow/model.json" <<'EOF'
import json, sys
p = sys.argv[1]
m = json.load(open(p))
m["version"] = "shadow-load-1"
json.dump(m, open(p, "w"), indent=2)
EOF
export VIGIE_MODEL_ROOTS="[\"$work/models\"]"
export VIGIE_LISTEN=127.0.0.1:${PORT:-18090}
export VIGIE_LOG_LEVEL=warn
VIGIE_KEY=$("$VIGIE_BIN" keys create --site load --role ingest --quiet)
ADMIN_KEY=$("$VIGIE_BIN" keys create --site load --role admin --quiet)
export VIGIE_KEY VIGIE_BODIES=$work/bodies.jsonl
"$VIGIE_BIN" serve & server=$!
for _ in $(seq 1 100); do curl -sf "http://$VIGIE_LISTEN/healthz" >/dev/null && break; sleep 0.1; done
run() {
  VIGIE_RUN=$$-$1 wrk -t1 -c"$connections" -d"$duration" --latency -s scripts/load/intake.lua \
    "http://$VIGIE_LISTEN" | grep -E "Requests/sec|50%|99%|Non-2xx"
}
echo "== $backend, $connections connections, $duration: no shadow model"
run plain
curl -sf -H "Authorization: Bearer $ADMIN_KEY" -H 'content-type: application/json' \
  -d "{\"path\": \"$work/models/shadow\"}" "http://$VIGIE_LISTEN/v1/models" >/dev/null
curl -sf -X POST -H "Authorization: Bearer $ADMIN_KEY" \
  "http://$VIGIE_LISTEN/v1/models/shadow-load-1/shadow" >/dev/null
sleep 2.5 # MODELS_RECHECK
echo "== the same with shadow-load-1 in shadow"
run shadow
curl -sf -H "Authorization: Bearer $ADMIN_KEY" \
  "http://$VIGIE_LISTEN/v1/models/shadow-load-1/shadow-report" |
  python3 -c 'import json,sys; r=json.load(sys.stdin); print("shadow report:", r["comments_scored"], "comments scored, agreement", r["agreement_rate"])'
