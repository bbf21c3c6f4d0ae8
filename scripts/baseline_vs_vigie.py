#!/usr/bin/env python3
"""ROC AUC of the strong TF-IDF baseline and of Vigie's shipped model, per language, on the sets a
newsroom cares about: the project's own evaluation sets (tests/eval, never trained on; the blind
ones never read either) and the shared held-out and functional sets.

The baseline is the one of scripts/tfidf_baseline.py (word 1–2-grams + char_wb 2–5-grams, sublinear
tf, logistic regression), trained once on every `train` dataset of training.toml with the same
held-out parts kept out (`holdout_share`, by the hash `vigie train` uses; `votes` read as the
majority of annotators). C is fixed at 2.0, the middle of that script's grid, instead of chosen by
cross-validation (which takes most of its run time). Vigie's scores come from `vigie score`.

    python3 -m venv target/venv && target/venv/bin/pip install scikit-learn
    target/venv/bin/python scripts/baseline_vs_vigie.py [--vigie target/release/vigie] [--model DIR]
"""
import argparse
import collections
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import tomllib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfidf_baseline import Model, auc  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
C = 2.0


def held_out(text, share):
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:2], "big") / 65536 < share


def read(base, d):
    """(text, {category: 0/1}) rows of one dataset, and the rows it keeps out of training."""
    csv.field_size_limit(1 << 24)
    delim = "\t" if d.get("delimiter") in ("\t", "tab") else ","
    quoting = csv.QUOTE_MINIMAL if d.get("quoting", True) else csv.QUOTE_NONE
    votes = None
    if "votes" in d:
        counts = collections.defaultdict(lambda: [0, 0])
        with open(os.path.join(base, d["votes"]["path"]), encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                v = counts[r[d["votes"]["key_column"]]]
                v[0] += 1
                v[1] += r[d["label_column"]].strip().lower() in ("1", "true")
        votes = {k: "true" if t * 2 > n else "false" for k, (n, t) in counts.items()}
    train, kept = [], []
    with open(os.path.join(base, d["path"]), encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=delim, quoting=quoting)
        head = [h.lstrip("\ufeff") for h in next(reader)]
        tc = head.index(d["text_column"])
        kc = head.index(d["votes"]["key_column"]) if votes else head.index(d["label_column"])
        for row in reader:
            if len(row) <= max(tc, kc):
                continue
            label = votes.get(row[kc]) if votes else row[kc].strip()
            cats = d["positive"].get(label, d["positive"].get("*")) if label is not None else None
            if cats is None:
                continue
            y = {c: int(c in cats) for c in d["categories"]}
            share = d.get("holdout_share", 0)
            (kept if share and held_out(row[tc], share) else train).append((row[tc], y))
    return train, kept


def vigie_scores(vigie, model, texts, langs, category):
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "in.jsonl"), os.path.join(tmp, "out.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for t, l in zip(texts, langs):
                f.write(json.dumps({"text": t, "lang": l}) + "\n")
        subprocess.run([vigie, "score", "--input", src, "--output", out]
                       + (["--model", model] if model else []), check=True,
                       stderr=subprocess.DEVNULL)
        with open(out, encoding="utf-8") as f:
            return [json.loads(line)["verdict"]["scores"][category] for line in f]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", default="target/release/vigie")
    ap.add_argument("--config", default=os.path.join(ROOT, "training.toml"))
    ap.add_argument("--model", help="model directory (default: models/<models/DEFAULT>)")
    a = ap.parse_args()
    cfg = tomllib.load(open(a.config, "rb"))
    base = os.path.dirname(os.path.abspath(a.config))
    data = {d["name"]: (d, *read(base, d)) for d in cfg["dataset"]}
    sets = []  # (name, lang, category, texts, labels)
    for name, (d, rows, kept) in data.items():
        role = d.get("role", "train")
        if role != "train" and d["path"].startswith("tests/eval/"):
            continue  # the project's sets, read below per language
        for cat in d["categories"]:
            if role != "train":
                sets.append((name, d["lang"], cat, [t for t, _ in rows], [y[cat] for _, y in rows]))
            elif kept:
                sets.append((name + "_holdout", d["lang"], cat, [t for t, _ in kept],
                             [y[cat] for _, y in kept]))
    for f, cat in [("fr_threats_blind", "toxicity"), ("fr_spam_blind", "spam"),
                   ("fr_threats_blind2", "toxicity"), ("fr_spam_blind2", "spam"),
                   ("fr_threats", "toxicity"), ("fr_spam", "spam"),
                   ("identity_templates", "toxicity"), ("fr_threat_pairs", "toxicity"),
                   ("quoted_insults", "toxicity"), ("quoted_insults_blind2", "toxicity"),
                   ("fr_group_attitudes", "toxicity"), ("fr_sexual_blind", "toxicity"),
                   ("en_sexual_blind", "toxicity")]:
        with open(os.path.join(ROOT, "tests", "eval", f + ".csv"), encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        for lang in sorted({r["lang"] for r in rows}):
            part = [r for r in rows if r["lang"] == lang]
            sets.append((f, lang, cat, [r["text"] for r in part], [int(r["label"]) for r in part]))
    print("| set | lang | category | n | positives | AUC Vigie | AUC TF-IDF | difference |")
    print("|---|---|---|---|---|---|---|---|")
    for cat in ("toxicity", "spam"):
        x, y = [], []
        for d, rows, _ in data.values():
            if d.get("role", "train") == "train" and cat in d["categories"]:
                x += [t for t, _ in rows]
                y += [lab[cat] for _, lab in rows]
        baseline = Model(C).fit(x, np.array(y))
        for name, lang, c, texts, labels in sets:
            if c != cat or not 0 < sum(labels) < len(labels):
                continue
            b = auc(labels, baseline.score(texts))
            v = auc(labels, vigie_scores(a.vigie, a.model, texts, [lang] * len(texts), cat))
            print(f"| {name} | {lang} | {cat} | {len(labels)} | {sum(labels)} | {v:.3f} | {b:.3f} | "
                  f"{v - b:+.3f} |", flush=True)


if __name__ == "__main__":
    main()
