#!/usr/bin/env python3
"""Writes realistic comment bodies (one JSON string per line) from ../shared/datasets for the
load scripts. The output stays under target/: third-party text is never committed."""
import csv, json, os, random, sys

root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "datasets")
out = sys.argv[1] if len(sys.argv) > 1 else "target/load/bodies.jsonl"
bodies = []
for name in ("mlma/fr_dataset.csv", "mlma/en_dataset.csv"):
    with open(os.path.join(root, name), newline="", encoding="utf-8") as f:
        bodies += [row["tweet"] for row in csv.DictReader(f) if row["tweet"].strip()]
with open(os.path.join(root, "olid_en/olid-training-v1.0.tsv"), encoding="utf-8") as f:
    bodies += [row["tweet"] for row in csv.DictReader(f, delimiter="\t") if row["tweet"].strip()]
random.Random(7).shuffle(bodies)
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w", encoding="utf-8") as f:
    for b in bodies[:5000]:
        f.write(json.dumps(b, ensure_ascii=False) + "\n")
print(f"{min(len(bodies), 5000)} bodies -> {out}", file=sys.stderr)
