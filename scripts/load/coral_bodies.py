#!/usr/bin/env python3
"""Writes signed Coral Talk moderation-phase requests for the Coral load script, one per line:
`<X-Coral-Signature value>\t<JSON body>`. Bodies are real comment texts from target/load/bodies.jsonl
(made by bodies.py from ../shared/datasets; they stay under target/), each request with its own
story, author and text so that none is a resend. Coral pretty-prints its bodies; these are on one
line so that wrk can read them, which changes neither the signature check nor the scoring."""
import hashlib, hmac, json, sys

secret, src, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(src, encoding="utf-8") as f:
    texts = [json.loads(line) for line in f if line.strip()]
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        body = json.dumps({
            "action": "NEW",
            "comment": {"body": f"<p>{texts[i % len(texts)]}</p><p>#{i}</p>", "parentID": None},
            "author": {"id": f"coral-user-{i % 100000}", "role": "COMMENTER"},
            "story": {"id": f"story-{i % 200}", "url": f"https://www.example.fr/story-{i % 200}.html"},
            "site": {"id": "site-load"},
            "tenantID": "tenant-load",
            "tenantDomain": "coral.example.fr",
        }, ensure_ascii=False, separators=(",", ":"))
        sig = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
        f.write(f"sha256={sig}\t{body}\n")
print(f"{n} signed Coral requests -> {out}", file=sys.stderr)
