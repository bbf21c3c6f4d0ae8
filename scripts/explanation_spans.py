#!/usr/bin/env python3
"""Do Vigie's explanations point at the right words? On the held-out part of `toxic_spans_en`
(the 30 % `vigie train` never trains on, chosen by the same hash of the text), the share of toxic
comments (a strict majority of annotators did not tick "not toxic") whose FIRST highlighted term
(`top_terms[0]` of the verdict, the word that weighed most) overlaps a toxic span an annotator
marked. Also given: the share where ANY of the highlighted terms does, the share with no
highlighted term at all, and, for scale, the share for a word of the comment picked at random
(seed 1); per span type of the comment (a comment can have several).

    python3 scripts/explanation_spans.py [--vigie target/release/vigie] [--model DIR]

The dataset is third-party: the comments are written to a temporary directory and deleted.
Standard library only.
"""
import argparse
import collections
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from heldout_hold_rates import ROOT, held_out  # noqa: E402  (the split `vigie train` uses)


def char_to_byte(text):
    """Byte offset of each character offset (and of the end)."""
    out, b = [], 0
    for ch in text:
        out.append(b)
        b += len(ch.encode())
    out.append(b)
    return out


def load(datasets):
    base = f"{datasets}/toxic_spans_en"
    csv.field_size_limit(1 << 24)
    with open(f"{base}/comments.csv", newline="", encoding="utf-8") as f:
        texts = {r["comment_id"]: r["comment_text"] for r in csv.DictReader(f)
                 if held_out(r["comment_text"], 0.3)}
    votes = collections.defaultdict(lambda: [0, 0])
    by_annotation = {}
    with open(f"{base}/annotations.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["comment_id"] not in texts:
                continue
            v = votes[r["comment_id"]]
            v[0] += 1
            v[1] += r["not toxic"].strip().lower() in ("1", "true")
            by_annotation[r["annotation"]] = r["comment_id"]
    spans = collections.defaultdict(list)  # comment id -> [(start byte, end byte, type)]
    with open(f"{base}/spans.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            cid = by_annotation.get(r["annotation"])
            if cid is None:
                continue
            offsets = char_to_byte(texts[cid])
            s, e = int(r["start"]), int(r["end"])
            if 0 <= s < e <= len(texts[cid]):
                spans[cid].append((offsets[s], offsets[e], r["type"]))
    toxic = [c for c, (n, nt) in votes.items() if nt * 2 < n and spans.get(c)]
    return [(c, texts[c], spans[c]) for c in sorted(toxic)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", default=f"{ROOT}/target/release/vigie")
    ap.add_argument("--datasets", default=f"{ROOT}/../shared/datasets")
    ap.add_argument("--model", help="model directory (default: models/<models/DEFAULT>)")
    a = ap.parse_args()
    rows = load(a.datasets)
    with tempfile.TemporaryDirectory() as work:
        path, out = f"{work}/in.csv", f"{work}/out.jsonl"
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["text", "lang"])
            w.writerows([t, "en"] for _, t, _ in rows)
        model = ["--model", a.model] if a.model else []
        subprocess.run([a.vigie, "score", "--input", path, "--output", out] + model, check=True,
                       stderr=subprocess.DEVNULL)
        with open(out, encoding="utf-8") as f:
            verdicts = [json.loads(line)["verdict"] for line in f]

    def inside(term, spans):
        return any(term["start"] < e and s < term["end"] for s, e, _ in spans)

    rng = random.Random(1)

    def random_word_inside(text, spans):
        words = [(m.start(), m.end()) for m in re.finditer(r"\w+", text)]
        if not words:
            return False
        offsets = char_to_byte(text)
        s, e = rng.choice(words)
        return inside({"start": offsets[s], "end": offsets[e]}, spans)

    tally = collections.defaultdict(lambda: [0, 0, 0, 0, 0])  # n, first, any, none, random
    for (_, text, spans), v in zip(rows, verdicts):
        terms = [t for t in v.get("top_terms", []) if "start" in t and "end" in t]
        first = bool(terms) and inside(terms[0], spans)
        any_in = any(inside(t, spans) for t in terms)
        chance = random_word_inside(text, spans)
        for key in ["all"] + sorted({k for _, _, k in spans}):
            t = tally[key]
            t[0] += 1
            t[1] += first
            t[2] += any_in
            t[3] += not terms
            t[4] += chance
    print("toxic_spans_en held-out, toxic comments with annotated spans (`vigie score`, lang en)")
    print("| spans of type | comments | first term inside a span | any term inside | no term "
          "| a random word inside |")
    print("|---|---|---|---|---|---|")
    for key, (n, first, any_in, none, chance) in sorted(tally.items(), key=lambda kv: -kv[1][0]):
        print(f"| {key} | {n} | {100 * first / n:.1f} % | {100 * any_in / n:.1f} % | "
              f"{100 * none / n:.1f} % | {100 * chance / n:.1f} % |")


if __name__ == "__main__":
    main()
