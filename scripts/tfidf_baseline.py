#!/usr/bin/env python3
"""The strong TF-IDF baseline of issue 15, on the same data and protocols as `vigie train`.

TF-IDF of word 1–2-grams plus character 2–5-grams within word boundaries (`char_wb`), sublinear
tf, logistic regression with C chosen by 3-fold cross-validation (ROC AUC) on the training
rows. Protocols, per category: leave-dataset-out for every `train` dataset of the config,
held-out sets (role `holdout`), functional suites (role `functional`, ROC AUC over their
cases), and 5-fold cross-validation inside `toxifrench_agreement_fr` (trained on everything
else plus the other folds).

    python3 -m venv target/venv && target/venv/bin/pip install scikit-learn
    target/venv/bin/python scripts/tfidf_baseline.py [--config training.toml] [--out target/tfidf_baseline.json]

Prints a Markdown table and writes the figures as JSON (read by the model card's author).
"""
import argparse
import csv
import json
import os
import sys
import time
import tomllib

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

CATEGORIES = ["toxicity", "spam"]
C_GRID = [0.5, 2.0, 8.0]


def load(base, d):
    csv.field_size_limit(1 << 24)
    delim = "\t" if d.get("delimiter") in ("\t", "tab") else ","
    quoting = csv.QUOTE_MINIMAL if d.get("quoting", True) else csv.QUOTE_NONE
    rows = []
    with open(os.path.join(base, d["path"]), encoding="utf-8", errors="replace", newline="") as f:
        r = csv.reader(f, delimiter=delim, quoting=quoting)
        head = [h.lstrip("\ufeff") for h in next(r)]
        tc, lc = head.index(d["text_column"]), head.index(d["label_column"])
        fc = head.index(d["functionality_column"]) if d.get("functionality_column") else None
        pos = d["positive"]
        for row in r:
            if len(row) <= max(tc, lc):
                continue
            label = row[lc].strip()
            cats = pos.get(label, pos.get("*"))
            if cats is None:
                sys.exit(f"{d['path']}: label {label!r} has no mapping")
            y = {c: int(c in cats) for c in d["categories"]}
            rows.append((row[tc], y, row[fc] if fc is not None else None))
    return rows


class Model:
    def __init__(self, C):
        self.w = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=300_000)
        self.c = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                                 max_features=300_000)
        self.lr = LogisticRegression(C=C, max_iter=1000, solver="liblinear")

    def fit(self, x, y):
        self.lr.fit(hstack([self.w.fit_transform(x), self.c.fit_transform(x)]).tocsr(), y)
        return self

    def score(self, x):
        return self.lr.predict_proba(hstack([self.w.transform(x), self.c.transform(x)]).tocsr())[:, 1]


def choose_c(x, y, seed=42):
    best = None
    for C in C_GRID:
        aucs = []
        for tr, te in StratifiedKFold(3, shuffle=True, random_state=seed).split(x, y):
            m = Model(C).fit([x[i] for i in tr], y[tr])
            aucs.append(roc_auc_score(y[te], m.score([x[i] for i in te])))
        auc = float(np.mean(aucs))
        if best is None or auc > best[1]:
            best = (C, auc)
    return best[0]


def auc(y, s):
    return float(roc_auc_score(y, s)) if 0 < sum(y) < len(y) else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="training.toml")
    ap.add_argument("--out", default="target/tfidf_baseline.json")
    a = ap.parse_args()
    cfg = tomllib.load(open(a.config, "rb"))
    base = os.path.dirname(os.path.abspath(a.config))
    data = {d["name"]: (d, load(base, d)) for d in cfg["dataset"]}
    results = []
    t0 = time.time()
    for cat in CATEGORIES:
        train = [n for n, (d, _) in data.items() if d.get("role", "train") == "train" and cat in d["categories"]]
        if not train:
            continue

        def rows(names, skip=None):
            x, y = [], []
            for n in names:
                for k, (t, lab, _) in enumerate(data[n][1]):
                    if skip and skip(n, k):
                        continue
                    x.append(t)
                    y.append(lab[cat])
            return x, np.array(y)

        x_all, y_all = rows(train)
        C = choose_c(x_all, y_all)
        print(f"{cat}: C = {C} (3-fold CV over {len(x_all)} rows), {time.time() - t0:.0f} s", file=sys.stderr)
        for n in train:
            x, y = rows([m for m in train if m != n])
            xt, yt = rows([n])
            s = Model(C).fit(x, y).score(xt)
            results.append(dict(protocol="leave-dataset-out", set=n, lang=data[n][0]["lang"], category=cat,
                                n=len(yt), auc=auc(yt, s), C=C))
        full = Model(C).fit(x_all, y_all)
        for n, (d, rs) in data.items():
            if d.get("role", "train") == "train" or cat not in d["categories"]:
                continue
            xt, yt = rows([n])
            proto = "functional suite" if d["role"] == "functional" else "held-out set"
            results.append(dict(protocol=proto, set=n, lang=d["lang"], category=cat, n=len(yt),
                                auc=auc(yt, full.score(xt)), C=C))
        if "toxifrench_agreement_fr" in train:
            tf = data["toxifrench_agreement_fr"][1]
            y = np.array([r[1][cat] for r in tf])
            s = np.zeros(len(tf))
            for fold, (_, te) in enumerate(StratifiedKFold(5, shuffle=True, random_state=42).split(y, y)):
                tes = set(te.tolist())
                x, yy = rows(train, skip=lambda n, k: n == "toxifrench_agreement_fr" and k in tes)
                s[te] = Model(C).fit(x, yy).score([tf[i][0] for i in te])
            results.append(dict(protocol="5-fold CV", set="toxifrench_agreement_fr", lang="fr", category=cat,
                                n=len(y), auc=auc(y, s), C=C))
        print(f"{cat} done, {time.time() - t0:.0f} s", file=sys.stderr)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    json.dump(dict(seconds=time.time() - t0, results=results), open(a.out, "w"), indent=1)
    print("| protocol | set | lang | category | n | AUC TF-IDF (strong) | C |\n|---|---|---|---|---|---|---|")
    for r in results:
        v = "–" if r["auc"] is None else f"{r['auc']:.3f}"
        print(f"| {r['protocol']} | {r['set']} | {r['lang']} | {r['category']} | {r['n']} | {v} | {r['C']} |")


if __name__ == "__main__":
    main()
