#!/usr/bin/env bash
# Report abuse and rate limits under concurrency, against a real server on loopback (issue 14,
# §2–§3): 3, 5 and 20 fresh reporter ids (each from its own network) and 30 ids from one IP on
# one published comment (is it hidden?); 40 reports at once from one reporter (limit 10), 60 at
# once from one IP (limit 30), and 100 at once from fresh ids without IP (per-site limit, 20).
#   scripts/report_limits.sh sqlite
#   scripts/report_limits.sh postgres URL        # a fresh database on the server of URL
# Environment: VIGIE_BIN (default target/debug/vigie, built if missing), ROUNDS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
bin=${VIGIE_BIN:-${CARGO_TARGET_DIR:-target}/debug/vigie}
[ -x "$bin" ] || cargo build -q
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
case $backend in
  sqlite) export VIGIE_DATABASE_URL="$work/race.db" ;;
  postgres)
    admin=${2:?postgres needs the URL of a server}
    name=vigie_race_$$
    psql "$admin" -qc "CREATE DATABASE $name"
    export VIGIE_DATABASE_URL="${admin%/*}/$name"
    trap 'kill $server 2>/dev/null || true; sleep 1; psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"; rm -rf "$work"' EXIT ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac
export VIGIE_LISTEN=127.0.0.1:${PORT:-18090}
export VIGIE_LOG_LEVEL=error
"$bin" migrate >/dev/null
key=$("$bin" keys create --site race --role ingest --quiet)
admin_key=$("$bin" keys create --site race --role admin --quiet)
"$bin" serve & server=$!
for _ in $(seq 1 100); do curl -sf "http://$VIGIE_LISTEN/healthz" >/dev/null && break; sleep 0.1; done
echo "== $backend ($("$bin" --version 2>/dev/null || echo vigie))"
python3 - "http://$VIGIE_LISTEN" "$key" "${ROUNDS:-3}" "$admin_key" <<'EOF'
import json, sys, threading, urllib.request, urllib.error, uuid

base, key, rounds, admin = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def call(path, body, method="POST", as_key=None):
    req = urllib.request.Request(base + path, json.dumps(body).encode() if body else None,
        method=method, headers={"Authorization": "Bearer " + (as_key or key),
                                "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, None

def comments(n):
    run = uuid.uuid4().hex[:8]
    return [call("/v1/comments", {"external_id": f"{run}-{i}", "thread": {"id": f"t-{run}"},
        "author": {"id": f"u-{run}-{i}"}, "body": "Un avis parmi d'autres"})[1]["id"]
        for i in range(n)]

def at_once(sends):
    barrier, codes = threading.Barrier(len(sends)), []
    def one(cid, body):
        barrier.wait()
        codes.append(call(f"/v1/comments/{cid}/reports", body)[0])
    threads = [threading.Thread(target=one, args=s) for s in sends]
    for t in threads: t.start()
    for t in threads: t.join()
    return {c: codes.count(c) for c in sorted(set(codes))}

call("/v1/site", {"moderation_mode": "post"}, "PATCH", admin)
for n, label in [(3, "3 fresh ids"), (5, "5 fresh ids"), (20, "20 fresh ids"), (30, "30 ids, one IP")]:
    cid = comments(1)[0]
    for i in range(n):
        ip = "10.9.9.9" if n == 30 else f"10.{n}.{i}.1"
        call(f"/v1/comments/{cid}/reports", {"category": "insult", "reporter": {"id": f"sock-{cid}-{i}"}, "ip": ip})
    c = call(f"/v1/comments/{cid}", None, "GET")[1]
    print(f"{label} report one published comment: status {c['status']}")
for r in range(rounds):
    run = uuid.uuid4().hex[:8]
    ids = comments(40)
    print(f"round {r + 1}: 40 at once, one reporter (limit 10):",
          at_once([(i, {"category": "spam", "reporter": {"id": f"eager-{run}"}, "ip": f"10.{r}.1.1"}) for i in ids]))
    ids = comments(60)
    print(f"round {r + 1}: 60 at once, one IP (limit 30):",
          at_once([(i, {"category": "spam", "reporter": {"id": f"r-{run}-{n}"}, "ip": f"10.{r}.2.1"}) for n, i in enumerate(ids)]))
    if r == 0:  # the per-site window (10 min) outlasts the run: once
        ids = comments(100)
        print("100 at once, fresh ids, no IP (per-site limit 20 per window):",
              at_once([(i, {"category": "spam", "reporter": {"id": f"anon-{run}-{n}"}}) for n, i in enumerate(ids)]))
EOF
