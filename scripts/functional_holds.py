#!/usr/bin/env python3
"""Hold rates of the whole pipeline on the two functional suites (Multilingual HateCheck French
and HateCheck English, the odd templates kept in ../shared/datasets), per functionality, with
`vigie score` (default rules and the model's thresholds unless given).

    python3 scripts/functional_holds.py [--vigie target/release/vigie] [--model DIR] [--rules FILE] [--all]

Issue 15, item 3: the neutral and positive identity mentions (`ident_neutral_nh`, `ident_pos_nh`)
and counter-speech (`counter_quote_nh`, `counter_ref_nh`) should not be held more than ordinary
benign comments (1.5x). A case is "held" when its verdict is `review` or `reject`. The cases are
read at run time and written to a temporary directory only. Standard library only.
"""
import argparse
import collections
import csv
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SUITES = ["mhc_fr_half", "hatecheck_en_half"]
KEYS = ["ident_neutral_nh", "ident_pos_nh", "counter_quote_nh", "counter_ref_nh"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", default=os.path.join(ROOT, "target", "release", "vigie"))
    ap.add_argument("--model")
    ap.add_argument("--rules")
    ap.add_argument("--all", action="store_true", help="every functionality, not only item 3's")
    a = ap.parse_args()
    base = os.path.join(ROOT, "..", "shared", "datasets")
    with tempfile.TemporaryDirectory() as tmp:
        for suite in SUITES:
            src = os.path.join(base, suite, "cases_odd_templates.csv")
            if not os.path.exists(src):
                print(f"{suite}: {src} not found", file=sys.stderr)
                continue
            with open(src, encoding="utf-8", newline="") as f:
                rows = list(csv.DictReader(f))
            inp, out = os.path.join(tmp, suite + ".csv"), os.path.join(tmp, suite + ".jsonl")
            with open(inp, "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                w.writerow(["body"])
                w.writerows([r["test_case"]] for r in rows)
            cmd = [a.vigie, "score", "--input", inp, "--output", out]
            cmd += ["--model", a.model] if a.model else []
            cmd += ["--rules", a.rules] if a.rules else []
            subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
            with open(out, encoding="utf-8") as f:
                held = [json.loads(line)["verdict"]["decision"] != "allow" for line in f]
            by = collections.defaultdict(lambda: [0, 0])
            for r, h in zip(rows, held):
                for k in (r["functionality"], "all " + r["label_gold"]):
                    by[k][0] += 1
                    by[k][1] += h
            print(f"## {suite} ({len(rows)} cases)")
            keys = sorted(by) if a.all else KEYS + ["all hateful", "all non-hateful"]
            for k in keys:
                n, h = by[k]
                if n:
                    print(f"  {k:<28} n={n:<5} held {100 * h / n:5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
