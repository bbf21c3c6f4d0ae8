#!/usr/bin/env bash
# Fits the calibration of the Perspective-compatible TOXICITY (POST
# /perspective/v1alpha1/comments:analyze) on held-out shared data the shipped model was never
# trained on, writes models/<DEFAULT>/perspective_calibration.json and prints the table of the
# README ("Replacing Perspective API").
#   scripts/perspective_calibration.sh             # debug build (cargo run)
#   VIGIE=target/release/vigie scripts/perspective_calibration.sh
# Environment: DATASETS (../shared/datasets), MODEL (a model directory; default models/<DEFAULT>).
# The labelled files are written to a temporary directory and deleted: the datasets are
# third-party and never copied into the repository.
# Only the rows training.toml keeps out of training (`holdout_share`, chosen by a hash of the
# text exactly as `vigie train` does: see `held_out` in src/training/config.rs):
#   fr: toxifrench_agreement_fr, its held-out 40 % (French forum messages, 1 toxic / 0 not)
#   en: toxic_spans_en, its held-out 30 % (Civil Comments news comments, majority of annotators
#       "not toxic" → 0, else 1; every negative and as many positives, picked by comment id) and
#       mhs_kennedy_en/dev_500.csv (the held-out dev set: 1 hateful, 0 not)
set -euo pipefail
cd "$(dirname "$0")/.."
datasets=${DATASETS:-../shared/datasets}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$datasets" "$work" <<'PY'
import csv, sys, collections, hashlib
src, out = sys.argv[1], sys.argv[2]
csv.field_size_limit(10**8)
def held_out(text, share):
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:2], "big") / 65536 < share
def write(name, rows):
    with open(f"{out}/{name}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    print(f"{name}: {len(rows)} rows, {sum(int(r[1]) for r in rows)} to remove", file=sys.stderr)
with open(f"{src}/toxifrench_agreement_fr/agreement_labels.csv", newline="") as f:
    write("toxifrench_agreement_fr_holdout", [(r["content"], r["label"]) for r in csv.DictReader(f)
                                         if held_out(r["content"], 0.4)])
with open(f"{src}/toxic_spans_en/comments.csv", newline="") as f:
    texts = {r["comment_id"]: r["comment_text"] for r in csv.DictReader(f)
             if held_out(r["comment_text"], 0.3)}
votes = collections.defaultdict(lambda: [0, 0])
with open(f"{src}/toxic_spans_en/annotations.csv", newline="") as f:
    for r in csv.DictReader(f):
        v = votes[r["comment_id"]]
        v[0] += 1
        v[1] += r["not toxic"].strip().lower() in ("1", "true")
neg = [c for c, (n, nt) in votes.items() if nt * 2 > n and c in texts]
pos = [c for c, (n, nt) in votes.items() if nt * 2 <= n and c in texts]
pos.sort(key=lambda c: hashlib.sha256(c.encode()).hexdigest())
rows = [(texts[c], 0) for c in neg] + [(texts[c], 1) for c in pos[:len(neg)]]
with open(f"{src}/mhs_kennedy_en/dev_500.csv", newline="") as f:
    rows += [(r["text"], r["label"]) for r in csv.DictReader(f)]
write("toxic_spans_en_holdout+mhs_kennedy_en_dev_500", rows)
PY
args=(perspective-calibrate --data "fr:$work/toxifrench_agreement_fr_holdout.csv"
  --data "en:$work/toxic_spans_en_holdout+mhs_kennedy_en_dev_500.csv")
if [ -n "${MODEL:-}" ]; then args+=(--model "$MODEL"); fi
if [ -n "${VIGIE:-}" ]; then "$VIGIE" "${args[@]}"; else cargo run -q -- "${args[@]}"; fi
