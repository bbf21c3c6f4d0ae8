#!/usr/bin/env python3
"""Benchmark of `vigie train --from-decisions`: simulate a site from a shared dataset.

A release `vigie serve` on a fresh SQLite file receives the OLDER half of the dataset as
comments (POST /v1/comments) and a moderator's decisions on each (POST
/v1/comments/{id}/decisions: reject with reason `insult` when the dataset says toxic, approve
otherwise). Then `vigie train --from-decisions` builds a site model with each method, and
`vigie eval` scores the base model and every site model on the NEWER half. Prints the ROC AUC
gain and the time of each step.

Sets (the base model trained on part of both; only rows it never saw are evaluated):
  toxifrench  toxifrench_agreement_fr ordered by msg_id (an anonymised hash: it has no dates, and
              its file order groups the labels), taken as time. The older half
              is fed whole (~250 rows: a site model needs 200); the newer half is evaluated on
              its rows in the base's holdout only (40 % by hash of the text, `held_out()` in
              src/training/config.rs): ~100 rows, so expect ±0.05 on its AUCs.
  toxic_spans toxic_spans_en, only its base holdout (30 %), by comment id (Civil Comments ids
              grow with time): the older half fed, the newer half evaluated.

Usage: scripts/site_model_bench.py [toxifrench|toxic_spans ...]
Environment: VIGIE (binary; default $CARGO_TARGET_DIR/release/vigie or target/release/vigie),
DATASETS (../shared/datasets), METHODS (layer,warm), VARIANTS (more runs with their own train
options: "name:--method warm --warm-g0 0.01;name2:..."), CONFIG (a training.toml: adds a
`warm` run with the shared data, `warm+config`), FEED_LIMIT (at most this many fed rows),
KEEP=1 (keep the temporary directory).
"""

import csv
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = os.environ.get("DATASETS", os.path.join(ROOT, "..", "shared", "datasets"))
if not os.path.isdir(DATASETS):
    DATASETS = "/work/shared/datasets"
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
VIGIE = os.environ.get("VIGIE", os.path.join(TARGET, "release", "vigie"))
METHODS = [m for m in os.environ.get("METHODS", "layer,warm").split(",") if m]
# extra runs: "name:--method warm --warm-g0 0.01;name2:..."
VARIANTS = [v.split(":", 1) for v in os.environ.get("VARIANTS", "").split(";") if v]
CONFIG = os.environ.get("CONFIG")
FEED_LIMIT = int(os.environ.get("FEED_LIMIT", "0"))
SITE = "bench"
csv.field_size_limit(10_000_000)


def held_out(text, share):
    """The base model's holdout, exactly as `held_out()` in src/training/config.rs."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:2], "big") / 65536 < share


def toxifrench():
    path = os.path.join(DATASETS, "toxifrench_agreement_fr", "agreement_labels.csv")
    with open(path, newline="", encoding="utf-8") as f:
        # the file groups its labels (rows 200-249 are all toxic): order by `msg_id`, an
        # anonymised hash, which is as good as a random order of arrival
        rows = [(r["content"], int(r["label"]))
                for r in sorted(csv.DictReader(f), key=lambda r: r["msg_id"])]
    half = len(rows) // 2
    feed = rows[:half]
    test = [r for r in rows[half:] if held_out(r[0], 0.4)]
    return "fr", feed, test


def toxic_spans():
    base = os.path.join(DATASETS, "toxic_spans_en")
    votes = {}
    with open(os.path.join(base, "annotations.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            n, yes = votes.get(r["comment_id"].strip(), (0, 0))
            votes[r["comment_id"].strip()] = (n + 1, yes + (r["not toxic"].strip().lower() in ("true", "1")))
    rows = []
    with open(os.path.join(base, "comments.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            v = votes.get(r["comment_id"].strip())
            if v is None or not held_out(r["comment_text"], 0.3):
                continue
            not_toxic = v[1] * 2 > v[0]
            rows.append((int(r["comment_id"]), r["comment_text"], 0 if not_toxic else 1))
    rows.sort()
    rows = [(t, y) for _, t, y in rows]
    half = len(rows) // 2
    return "en", rows[:half], rows[half:]


SETS = {"toxifrench": toxifrench, "toxic_spans": toxic_spans}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, key, body=None):
        headers = {"Authorization": f"Bearer {key}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        payload = r.read()
        return r.status, (json.loads(payload) if payload else None)


def run(cmd, env):
    t = time.monotonic()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    return p, time.monotonic() - t


def bench(name):
    lang, feed, test = SETS[name]()
    if FEED_LIMIT:
        feed = feed[:FEED_LIMIT]
    tmp = tempfile.mkdtemp(prefix=f"vigie-site-bench-{name}-")
    env = dict(os.environ)
    env.pop("VIGIE_CONFIG", None)
    env.update(
        VIGIE_DATABASE_URL=os.path.join(tmp, "vigie.db"),
        VIGIE_MODEL_DIR=os.path.join(ROOT, "models"),
        VIGIE_LOG_LEVEL="warn",
    )
    times = {}
    keys = {}
    for role in ("ingest", "moderator"):
        p, _ = run([VIGIE, "keys", "create", "--site", SITE, "--role", role, "--quiet"], env)
        if p.returncode:
            sys.exit(p.stderr)
        keys[role] = p.stdout.strip()
    port = free_port()
    env["VIGIE_LISTEN"] = f"127.0.0.1:{port}"
    server = subprocess.Popen([VIGIE, "serve"], env=env, stderr=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                api = Api(port)
                if api.call("GET", "/healthz", "")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        t = time.monotonic()
        fed = labelled = skipped = 0
        for i, (text, label) in enumerate(feed):
            status, c = api.call("POST", "/v1/comments", keys["ingest"], {
                "external_id": f"c{i}",
                "thread": {"id": f"t{i // 20}", "url": f"https://example.org/a/{i // 20}",
                           "title": "Article"},
                "author": {"id": f"u{i}", "name": f"Reader {i}"},
                "body": text,
                "lang": lang,
            })
            if status != 201:
                skipped += 1
                continue
            fed += 1
            if label == 1:
                action = {"action": "reject", "reason": "insult"}
                if c["status"] == "rejected":
                    skipped += 1  # rejected by the pipeline: no moderator decision to take
                    continue
            else:
                action = {"action": "restore" if c["status"] == "rejected" else "approve"}
            status, _ = api.call("POST", f"/v1/comments/{c['id']}/decisions",
                                 keys["moderator"], action)
            if status == 200:
                labelled += 1
            else:
                skipped += 1
        times["feed (HTTP: comment + decision)"] = time.monotonic() - t
    finally:
        server.terminate()
        server.wait()
    eval_csv = os.path.join(tmp, "newer_half.csv")
    with open(eval_csv, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label", "lang"])
        for text, label in test:
            w.writerow([text, label, lang])

    def evaluate(model_dir, what):
        if model_dir is None:
            with open(os.path.join(ROOT, "models", "DEFAULT")) as f:
                model_dir = os.path.join(ROOT, "models", f.read().strip())
        cmd = [VIGIE, "eval", "--data", eval_csv, "--json", "--model", model_dir]
        p, secs = run(cmd, env)
        if p.returncode:
            sys.exit(p.stderr)
        times[f"eval {what}"] = secs
        return json.loads(p.stdout.strip().splitlines()[-1])

    base = evaluate(None, "base")
    results = []
    runs = [(m, ["--method", m]) for m in METHODS]
    runs += [(name, args.split()) for name, args in VARIANTS]
    if CONFIG:
        runs.append(("warm+config", ["--method", "warm", "--config", CONFIG]))
    for label, extra in runs:
        out = os.path.join(tmp, f"site-{label}")
        p, secs = run([VIGIE, "train", "--from-decisions", "--site", SITE, "--output", out]
                      + extra, env)
        if p.returncode:
            sys.exit(f"train {label} failed:\n{p.stderr}")
        times[f"train {label}"] = secs
        report = json.load(open(os.path.join(out, "validation.json")))
        inner = next((c for c in report["comparison"]
                      if c["slice"] == "all" and c["category"] == "toxicity"), None)
        site = evaluate(out, label)
        results.append((label, report, inner, site))

    pos = sum(1 for _, y in test if y)
    print(f"\n## {name}: fed {fed} comments ({labelled} labelled by a moderator, "
          f"{skipped} skipped), evaluated on {len(test)} newer rows ({pos} toxic)\n")
    print(f"base model {base['model_version']}: ROC AUC {base['roc_auc']:.3f} on the newer half")
    print("\n| method | holdout (newest 20 % of the fed) AUC base → site | newer half AUC base → "
          "site | gain | train time |\n|---|---|---|---|---|")
    for label, report, inner, site in results:
        hb = inner["base"]["roc_auc"] if inner else None
        hs = inner["site"]["roc_auc"] if inner else None
        fmt = lambda v: "–" if v is None else f"{v:.3f}"
        print(f"| {label} | {fmt(hb)} → {fmt(hs)} (n={inner['n'] if inner else 0}) | "
              f"{base['roc_auc']:.3f} → {site['roc_auc']:.3f} | "
              f"{site['roc_auc'] - base['roc_auc']:+.3f} | {times['train ' + label]:.1f} s |")
    print("\nstep times:")
    for k, v in times.items():
        print(f"  {k:<36} {v:7.2f} s")
    if os.environ.get("KEEP") == "1":
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp)


def main():
    if not os.path.exists(VIGIE):
        sys.exit(f"no binary at {VIGIE}: cargo build --release (or set VIGIE)")
    for name in sys.argv[1:] or ["toxifrench"]:
        if name not in SETS:
            sys.exit(f"unknown set {name} (known: {', '.join(SETS)})")
        bench(name)


if __name__ == "__main__":
    main()
