#!/usr/bin/env python3
"""Hold rates of the whole pipeline (default rules, the model's thresholds) on the shared data the
shipped model never trained on, and what a lower toxicity review threshold would hold.

    python3 scripts/heldout_hold_rates.py [--vigie target/release/vigie] [--model DIR] [--rules FILE] [--review 0.60]

Sets: the held-out 40 % of `toxifrench_agreement_fr` (French forum messages) and the held-out 30 %
of `toxic_spans_en` (Civil Comments; a comment is "not toxic" when most annotators said so),
chosen by the hash `vigie train` uses (`held_out` in src/training/config.rs), and the project's
`tests/eval/benign_news_comments.csv`. A comment is held when its verdict is `review` or
`reject`; at `--review t` also when its toxicity is at least t (the rules and spam unchanged).
The datasets are third-party: the files are written to a temporary directory and deleted.
Standard library only.
"""
import argparse
import collections
import csv
import hashlib
import json
import os
import subprocess
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def held_out(text, share):
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:2], "big") / 65536 < share


def sets(datasets):
    with open(f"{datasets}/toxifrench_agreement_fr/agreement_labels.csv", newline="") as f:
        forum = [(r["content"], int(r["label"])) for r in csv.DictReader(f) if held_out(r["content"], 0.4)]
    with open(f"{datasets}/toxic_spans_en/comments.csv", newline="") as f:
        texts = {r["comment_id"]: r["comment_text"] for r in csv.DictReader(f) if held_out(r["comment_text"], 0.3)}
    votes = collections.defaultdict(lambda: [0, 0])
    with open(f"{datasets}/toxic_spans_en/annotations.csv", newline="") as f:
        for r in csv.DictReader(f):
            v = votes[r["comment_id"]]
            v[0] += 1
            v[1] += r["not toxic"].strip().lower() in ("1", "true")
    civil = [(texts[c], int(nt * 2 <= n)) for c, (n, nt) in votes.items() if c in texts]
    with open(f"{ROOT}/tests/eval/benign_news_comments.csv", newline="") as f:
        news = [(r["text"], int(r["label"])) for r in csv.DictReader(f)]
    return {"toxifrench held-out (fr forum)": forum, "toxic_spans held-out (en Civil Comments)": civil,
            "benign_news_comments": news}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", default=f"{ROOT}/target/release/vigie")
    ap.add_argument("--datasets", default=f"{ROOT}/../shared/datasets")
    ap.add_argument("--review", type=float, action="append", default=[])
    ap.add_argument("--model", help="model directory (default: models/<models/DEFAULT>)")
    ap.add_argument("--rules", help="rule file (default: the built-in rules)")
    a = ap.parse_args()
    model = (["--model", a.model] if a.model else []) + (["--rules", a.rules] if a.rules else [])
    with tempfile.TemporaryDirectory() as work:
        for name, rows in sets(a.datasets).items():
            path, out = f"{work}/in.csv", f"{work}/out.jsonl"
            with open(path, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["text"])
                w.writerows([t] for t, _ in rows)
            subprocess.run([a.vigie, "score", "--input", path, "--output", out] + model, check=True,
                           stderr=subprocess.DEVNULL)
            with open(out) as f:
                verdicts = [json.loads(line)["verdict"] for line in f]
            line = f"{name}: n={len(rows)}"
            for label, what in ((1, "toxic held"), (0, "others held")):
                vs = [v for (_, y), v in zip(rows, verdicts) if y == label]
                if not vs:
                    continue
                held = [v["decision"] != "allow" for v in vs]
                line += f"; {what} {100 * sum(held) / len(vs):.1f} % (n={len(vs)})"
                for t in a.review:
                    at = [h or v["scores"]["toxicity"] >= t for h, v in zip(held, vs)]
                    line += f", at review {t:.2f}: {100 * sum(at) / len(vs):.1f} %"
            print(line)


if __name__ == "__main__":
    main()
