#!/usr/bin/env python3
"""Writes the request bodies Coral Talk sends to a Perspective endpoint, built from real comments
in ../shared/datasets (French and English), one JSON body per line: `comments:analyze` bodies
(argv[1]) and `comments:suggestscore` bodies (argv[2]). The output stays under target/:
third-party text is never committed."""
import csv, json, os, random, sys

root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "datasets")
analyze_out, suggest_out = sys.argv[1], sys.argv[2]
rows = []
with open(os.path.join(root, "mlma/fr_dataset.csv"), newline="", encoding="utf-8") as f:
    rows += [(r["tweet"], "fr") for r in csv.DictReader(f) if r["tweet"].strip()]
with open(os.path.join(root, "mlma/en_dataset.csv"), newline="", encoding="utf-8") as f:
    rows += [(r["tweet"], "en") for r in csv.DictReader(f) if r["tweet"].strip()]
with open(os.path.join(root, "olid_en/olid-training-v1.0.tsv"), encoding="utf-8") as f:
    rows += [(r["tweet"], "en") for r in csv.DictReader(f, delimiter="\t") if r["tweet"].strip()]
random.Random(7).shuffle(rows)
rows = rows[:5000]
os.makedirs(os.path.dirname(analyze_out) or ".", exist_ok=True)
with open(analyze_out, "w", encoding="utf-8") as f:
    for text, lang in rows:
        body = {"comment": {"text": text}, "doNotStore": True,
                "requestedAttributes": {"TOXICITY": {}}, "languages": [lang]}
        f.write(json.dumps(body, ensure_ascii=False) + "\n")
with open(suggest_out, "w", encoding="utf-8") as f:
    for i, (text, lang) in enumerate(rows):
        cid = f"load-{i}"
        context = {"url": f"https://example.fr/a-{i % 97}?commentID={cid}",
                   "reply_to_id_Coral_comment_id": None, "Coral_comment_id": cid}
        body = {"comment": {"text": text},
                "context": {"entries": [{"text": json.dumps(context)}]},
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": i % 2}}},
                "languages": [lang], "communityId": "Coral:https://example.fr",
                "clientToken": f"comment:{cid}"}
        f.write(json.dumps(body, ensure_ascii=False) + "\n")
print(f"{len(rows)} bodies -> {analyze_out}, {suggest_out}", file=sys.stderr)
