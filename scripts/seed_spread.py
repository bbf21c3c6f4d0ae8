#!/usr/bin/env python3
"""How much the evaluation sets' figures move with the training seed alone: trains a
configuration once per seed (same data, same split of the `holdout_share` sets, which follows
each text's hash; only the order of the sparse model's steps and the stacker's folds change),
without validation, and prints each set's hold rates as mean ± standard deviation (min-max) over
the seeds, with the two functional suites' hateful cases and the four identity functionalities
issue 15 reads (`eval_sets.suite_hold_rates`; skipped when --datasets does not exist). With a
second configuration, trains it at the same seeds and prints both side by
side, marking the cells whose means differ by more than twice the larger spread (and by more
than twice MIN_SPREAD).

    python3 scripts/seed_spread.py [--seeds 42 43 44 45] [--vigie target/release/vigie]
                                   [--sets SET ...] [--datasets DIR] [--all-kinds]
                                   CONFIG [OTHER_CONFIG]

A difference between two models smaller than the spread of one model over seeds is not evidence
for either. The models are written under target/seed_spread/ (each one about 2 MB) and the
temporary configurations beside CONFIG (its paths are relative to its directory), removed after.
About 10 s of training and 5 s of scoring a seed on 2 cores. Standard library only.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

from eval_sets import SETS, SUITES, hold_rates, suite_hold_rates

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TOP_KEYS = ("seed", "output_dir", "version", "validate")
# The smallest spread (points) a difference is read against: with four seeds a set can show no
# spread at all (every seed held the same comments) while one comment more is 0.3-1.7 points.
MIN_SPREAD = 0.3


def seeded_config(text, seed, out_dir, version):
    r"""`text` (a training configuration) with its seed, output directory and version replaced
    and validation off: top-level keys, so they go before the first table.

    >>> print(seeded_config('seed = 1\nvalidate = true\n[[dataset]]\nname = "a"\n', 43, "m", "v"))
    seed = 43
    output_dir = "m"
    version = "v"
    validate = false
    [[dataset]]
    name = "a"
    <BLANKLINE>
    """
    kept = [line for line in text.splitlines()
            if not re.match(rf"^\s*(?:{'|'.join(TOP_KEYS)})\s*=", line)]
    head = [f"seed = {seed}", f'output_dir = "{out_dir}"',
            f'version = "{version}"', "validate = false"]
    return "\n".join(head + kept) + "\n"


def train_and_rate(vigie, config, tag, seeds, sets, datasets=None):
    """{seed: hold_rates} of `config` trained at each seed, with the functional suites' rates
    (`suite_hold_rates`) when `datasets` is given."""
    text = open(config, encoding="utf-8").read()
    conf_dir = os.path.dirname(os.path.abspath(config))
    out_dir = os.path.abspath(os.path.join(ROOT, "target", "seed_spread"))
    os.makedirs(out_dir, exist_ok=True)
    rates = {}
    for seed in seeds:
        version = f"{tag}-seed{seed}"
        fd, tmp_conf = tempfile.mkstemp(prefix=".seed_spread-", suffix=".toml", dir=conf_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(seeded_config(text, seed, os.path.relpath(out_dir, conf_dir), version))
            done = subprocess.run([vigie, "train", "--config", tmp_conf],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        finally:
            os.remove(tmp_conf)
        if done.returncode != 0:
            sys.exit(f"vigie train failed for {config} at seed {seed}:\n{done.stderr.strip()}")
        with tempfile.TemporaryDirectory() as tmp:
            model = os.path.join(out_dir, version)
            rates[seed] = hold_rates(vigie, None, model, sets, tmp, show_errors=None)
            if datasets:
                rates[seed].update(suite_hold_rates(vigie, None, model, datasets, tmp))
        print(f"  {tag}: seed {seed} trained and scored", file=sys.stderr)
    return rates


def spread(rates, cell):
    """(n, mean %, sd, min, max) of `cell` over the seeds."""
    vals = [100 * r[cell][1] / r[cell][0] for r in rates.values()]
    n = next(iter(rates.values()))[cell][0]
    return n, statistics.mean(vals), statistics.pstdev(vals), min(vals), max(vals)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("configs", nargs="+", help="one configuration, or two to compare")
    ap.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44, 45])
    ap.add_argument("--vigie", default=os.path.join(ROOT, "target", "release", "vigie"))
    ap.add_argument("--sets", nargs="*", default=SETS)
    ap.add_argument("--datasets", default=os.path.join(ROOT, "..", "shared", "datasets"),
                    help="where the functional suites are read (skipped if it does not exist)")
    ap.add_argument("--all-kinds", action="store_true",
                    help="every kind of comment, not only the languages")
    a = ap.parse_args()
    if len(a.configs) > 2:
        ap.error("one configuration, or two to compare")
    datasets = a.datasets if os.path.isdir(a.datasets) else None
    runs = [train_and_rate(a.vigie, c, f"c{k}", a.seeds, a.sets, datasets)
            for k, c in enumerate(a.configs)]
    order = a.sets + [name for name, _, _ in SUITES]
    cells = sorted(set.intersection(*(set(next(iter(r.values()))) for r in runs)),
                   key=lambda c: (order.index(c[0].split("/")[0]), c))
    print(f"hold rates over seeds {', '.join(map(str, a.seeds))}: mean ± sd (min-max); "
          "label 1: review recall, label 0: held (false holds)")
    print("  " + " | ".join(a.configs))
    for cell in cells:
        name, label, key = cell
        if not a.all_kinds and key not in ("fr", "en"):
            continue
        stats = [spread(r, cell) for r in runs]
        cols = [f"{m:5.1f} ± {sd:3.1f} ({lo:5.1f}-{hi:5.1f})" for _, m, sd, lo, hi in stats]
        mark = ""
        if len(stats) == 2:
            diff = stats[1][1] - stats[0][1]
            wide = abs(diff) > 2 * max(stats[0][2], stats[1][2], MIN_SPREAD)
            mark = f"  {diff:+5.1f}" + (" *" if wide else "")
        print(f"{name:30} {label} {key:4} n={stats[0][0]:<4} " + " | ".join(cols) + mark)
    return 0


if __name__ == "__main__":
    sys.exit(main())
