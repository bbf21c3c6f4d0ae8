#!/usr/bin/env python3
"""`vigie score` (the whole process: start-up, CSV parsing, verdicts written) against
alt-profanity-check's batch `predict_prob` on the same 50,000 comments, in one run: alt-profanity-check
on one core (as issue 15 asks), `vigie score` on one core and then on every CPU of the machine.

    python3 -m venv target/venv && target/venv/bin/pip install alt-profanity-check
    cargo build --release
    target/venv/bin/python scripts/vs_profanity_check.py [--vigie target/release/vigie] [--n 50000]

The comments are read at run time from ../shared/datasets (English and French comment sets,
cycled to reach --n); they are written to target/ only, never to the repository. "One core" is
`taskset -c 0` when available (BLAS/OpenMP threads set to 1 either way); `vigie score` without
it uses one thread per CPU it may run on. Issue 15 asks for `vigie score` ≥ 2.5×
alt-profanity-check's rate.
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SOURCES = [  # (path under ../shared/datasets, text column, delimiter)
    ("toxic_spans_en/comments.csv", "comment_text", ","),
    ("mhs_kennedy_en/train_20692.csv", "text", ","),
    ("davidson_en/data_labeled_data.csv", "tweet", ","),
    ("mlma/fr_dataset.csv", "tweet", ","),
    ("toxifrench_agreement_fr/agreement_labels.csv", "content", ","),
]


def comments(n):
    csv.field_size_limit(1 << 24)
    base = os.path.join(ROOT, "..", "shared", "datasets")
    texts = []
    for path, col, delim in SOURCES:
        p = os.path.join(base, path)
        if not os.path.exists(p):
            continue
        with open(p, encoding="utf-8", errors="replace", newline="") as f:
            for row in csv.DictReader(f, delimiter=delim):
                t = (row.get(col) or "").replace("\r", " ").replace("\n", " ").strip()
                if t:
                    texts.append(t)
    if not texts:
        sys.exit("no comments found under ../shared/datasets")
    return [texts[i % len(texts)] for i in range(n)]


def one_core():
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", default=os.path.join(ROOT, "target", "release", "vigie"))
    ap.add_argument("--n", type=int, default=50_000)
    a = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    texts = comments(a.n)
    work = os.path.join(ROOT, "target", "vs_profanity_check")
    os.makedirs(work, exist_ok=True)
    inp = os.path.join(work, "comments.csv")
    with open(inp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["body"])
        w.writerows([t] for t in texts)
    out = os.path.join(work, "verdicts.jsonl")

    def run_vigie(pin):
        t = time.perf_counter()
        subprocess.run(pin + [a.vigie, "score", "--input", inp, "--output", out], check=True,
                       cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        s = time.perf_counter() - t
        with open(out, encoding="utf-8") as f:
            assert sum(1 for _ in f) == len(texts), "one verdict per comment"
        return s

    vigie_s = run_vigie(one_core())
    # the same with every CPU of the machine (`vigie score` scores blocks on one thread per CPU)
    vigie_all_s = run_vigie([])
    # alt-profanity-check in a child process pinned the same way, timing predict_prob only
    child = ("import csv,sys,time\nfrom profanity_check import predict_prob\n"
             "csv.field_size_limit(1<<24)\n"
             "x=[r['body'] for r in csv.DictReader(open(sys.argv[1],encoding='utf-8',newline=''))]\n"
             "predict_prob(x[:10])\n"
             "t=time.perf_counter();p=predict_prob(x);print(time.perf_counter()-t,len(p))\n")
    r = subprocess.run(one_core() + [sys.executable, "-c", child, inp], check=True, env=env,
                       capture_output=True, text=True)
    apc_s, apc_n = r.stdout.split()
    apc_s = float(apc_s)
    assert int(apc_n) == len(texts)
    n = len(texts)
    print(f"{n} comments; alt-profanity-check on one core")
    print(f"vigie score (whole process), one core: {vigie_s:.2f} s = {n / vigie_s:,.0f} comments/s")
    print(f"vigie score (whole process), {os.cpu_count()} CPUs: {vigie_all_s:.2f} s = "
          f"{n / vigie_all_s:,.0f} comments/s")
    print(f"alt-profanity-check predict_prob (batch, model loaded): {apc_s:.2f} s = {n / apc_s:,.0f} comments/s")
    print(f"ratio, one core each: {apc_s / vigie_s:.2f}x; vigie on {os.cpu_count()} CPUs: "
          f"{apc_s / vigie_all_s:.2f}x (target >= 2.5x)")
    os.remove(out)


if __name__ == "__main__":
    main()
