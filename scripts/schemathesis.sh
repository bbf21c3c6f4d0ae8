#!/usr/bin/env bash
# Contract test: schemathesis, driven by the server's own /openapi.json, against the debug
# binary on loopback, once per API key role (ingest, moderator, admin), with every check.
#   scripts/schemathesis.sh sqlite            # a fresh SQLite file in a temporary folder
#   scripts/schemathesis.sh postgres URL      # a fresh database on the server of URL (CREATEDB)
#   scripts/schemathesis.sh both URL          # both, one after the other
# Environment: EXAMPLES (examples per operation and phase, default 10), SEED (default 14),
# VIGIE_BIN (a built binary; default: `cargo build` then the debug binary of CARGO_TARGET_DIR),
# ROLES (default "ingest moderator admin"), REPORT_DIR (keeps schemathesis' JUnit reports).
# Exit status: non-zero when any run finds a failure. Traffic stays on 127.0.0.1; webhook
# deliveries are not attempted (the worker's poll interval is set beyond the run).
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
examples=${EXAMPLES:-10}
seed=${SEED:-14}
roles=${ROLES:-ingest moderator admin}
config=$(pwd)/scripts/schemathesis.toml
command -v schemathesis >/dev/null || {
  echo "schemathesis is needed: python3 -m pip install schemathesis==4.32.5" >&2
  exit 1
}
if [ -z "${VIGIE_BIN:-}" ]; then
  cargo build -q --bin vigie
  VIGIE_BIN=${CARGO_TARGET_DIR:-target}/debug/vigie
fi
[ -x "$VIGIE_BIN" ] || { echo "no binary at $VIGIE_BIN" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# One backend: fresh database, keys for each role, one seeded comment, one run per role.
run_backend() {
  local name=$1 admin_url=${2:-} work server db status=0
  work=$(mktemp -d)
  case $name in
    sqlite) export VIGIE_DATABASE_URL="$work/schemathesis.db" ;;
    postgres)
      db=vigie_schemathesis_$$
      psql "$admin_url" -qc "CREATE DATABASE $db"
      export VIGIE_DATABASE_URL="${admin_url%/*}/$db" ;;
  esac
  port=$(free_port)
  export VIGIE_LISTEN=127.0.0.1:$port VIGIE_LOG_LEVEL=${VIGIE_LOG_LEVEL:-error}
  export VIGIE_WEBHOOK_POLL_MS=86400000 VIGIE_WORKERS=2 VIGIE_LOG_FORMAT=json
  declare -A keys
  for role in ingest moderator admin; do
    keys[$role]=$("$VIGIE_BIN" keys create --site contract --role "$role" --name "st-$role" --quiet)
  done
  "$VIGIE_BIN" serve >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do curl -sf "http://$VIGIE_LISTEN/readyz" >/dev/null && break; sleep 0.1; done
  curl -sf "http://$VIGIE_LISTEN/readyz" >/dev/null || { echo "the server did not start:" >&2; tail -20 "$work/server.log" >&2; return 1; }
  # A comment (and so a thread and an author) that ids in generated requests can hit.
  curl -sf -o /dev/null -X POST "http://$VIGIE_LISTEN/v1/comments" \
    -H "authorization: Bearer ${keys[ingest]}" -H 'content-type: application/json' \
    -d '{"external_id":"seed-1","thread":{"id":"t1"},"author":{"id":"a1"},"body":"Bonjour, un premier commentaire."}'
  for role in $roles; do
    echo "== schemathesis: $name, $role key, $examples examples per operation, seed $seed"
    local report=()
    if [ -n "${REPORT_DIR:-}" ]; then
      mkdir -p "$REPORT_DIR"
      report=(--report junit --report-junit-path "$(realpath "$REPORT_DIR")/$name-$role.xml")
    fi
    # From the temporary folder: schemathesis keeps a cache (.schemathesis/) where it runs.
    # No NUL in generated strings: Vigie refuses U+0000 anywhere in a request (path 404, query
    # 400, any string or key of a JSON body 422, also in keys it would otherwise ignore, which
    # the document cannot state); tests/api/bad_input.rs walks every route with NUL instead.
    (cd "$work" && schemathesis --config-file "$config" run "http://$VIGIE_LISTEN/openapi.json" \
      --url "http://$VIGIE_LISTEN" \
      -H "Authorization: Bearer ${keys[$role]}" \
      --checks all --max-examples "$examples" --seed "$seed" \
      --generation-database none --generation-allow-x00 false --workers 1 --no-color \
      "${report[@]}") || status=1
  done
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  # Vigie's own errors (a 500 is logged once); actix-http's notes on unparsable requests are not.
  if grep -q '"level":"ERROR".*"target":"vigie\|panicked' "$work/server.log"; then
    echo "== server errors ($name):"
    grep '"level":"ERROR".*"target":"vigie\|panicked' "$work/server.log" | head -20
    status=1
  fi
  [ "$name" = postgres ] && psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  rm -rf "$work"
  return $status
}

status=0
case $backend in
  sqlite) run_backend sqlite || status=1 ;;
  postgres) run_backend postgres "${2:?postgres needs the URL of a server}" || status=1 ;;
  both)
    run_backend sqlite || status=1
    run_backend postgres "${2:?both needs the URL of a PostgreSQL server}" || status=1 ;;
  *) echo "backend must be sqlite, postgres or both" >&2; exit 2 ;;
esac
exit $status
