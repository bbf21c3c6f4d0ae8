#!/usr/bin/env bash
# Fills a SQLite database with N comments (default 100,000), each with an automated decision
# and a human one, then times `vigie dataset export` and its peak memory.
#   scripts/load/dataset-export.sh [VIGIE_BINARY]     (default: the debug binary of CARGO_TARGET_DIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/load/sqlite-bench.sh
sqlite3 vigie.db <<SQL
INSERT INTO threads (site_id, external_id, status, created_at) VALUES (1, 't1', 'open', '2026-12-01 10:00:00');
INSERT INTO authors (site_id, external_id, status, created_at) VALUES (1, 'a1', 'active', '2026-12-01 10:00:00');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO comments (site_id, thread_id, author_id, external_id, body, lang, status, created_at, updated_at)
SELECT 1, 1, 1, 'c' || i, 'Un commentaire de lecteur, numéro ' || i || ', avec "des guillemets", des virgules et une phrase assez longue pour ressembler à un vrai commentaire.', 'fr',
       CASE WHEN i % 3 = 0 THEN 'rejected' ELSE 'approved' END, '2026-12-01 10:00:00', '2026-12-01 10:00:00' FROM n;
INSERT INTO decisions (comment_id, site_id, actor, source, to_status, created_at)
SELECT id, 1, 'policy', 'automated', 'pending', '2026-12-01 10:00:00' FROM comments;
INSERT INTO decisions (comment_id, site_id, actor, actor_key_id, source, from_status, to_status, reason, created_at, action)
SELECT id, 1, 'mod', 1, 'human', 'pending', status, CASE WHEN status = 'rejected' THEN 'insult' END, '2026-12-02 10:00:00', CASE WHEN status = 'rejected' THEN 'reject' ELSE 'approve' END FROM comments;
SQL
/usr/bin/time -f "elapsed %e s, max RSS %M KiB" "$BIN" dataset export --site bench --output out.csv
wc -l out.csv; ls -la out.csv
