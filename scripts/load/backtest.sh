#!/usr/bin/env bash
# Fills a SQLite database with N comments (default 100,000) of the last 29 days by 5,000
# authors, each with its automated intake decision and one in two with a moderator's decision,
# then times `vigie backtest` of stricter toxicity thresholds over them and its peak memory.
#   scripts/load/backtest.sh [VIGIE_BINARY]     (default: the debug binary of CARGO_TARGET_DIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/load/sqlite-bench.sh
sqlite3 vigie.db <<SQL
INSERT INTO threads (site_id, external_id, status, created_at) VALUES (1, 't1', 'open', '2026-11-01 10:00:00');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
INSERT INTO authors (site_id, external_id, status, created_at) SELECT 1, 'a' || i, 'active', '2026-11-01 10:00:00' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO comments (site_id, thread_id, author_id, external_id, body, body_hash, lang, status, created_at, updated_at)
SELECT 1, 1, 1 + (i * 7919) % 5000, 'c' || i,
       CASE i % 6
         WHEN 0 THEN 'Merci pour cet article très clair sur la fibre, numéro ' || i || '.'
         WHEN 1 THEN 'Je ne suis pas d''accord avec la conclusion, mais l''analyse est intéressante (' || i || ').'
         WHEN 2 THEN 'L''auteur n''a visiblement rien compris au sujet, c''est nul. ' || i
         WHEN 3 THEN 'Quel ramassis de bêtises, franchement c''est pathétique. ' || i
         WHEN 4 THEN 'T''es vraiment un abruti, retourne à l''école. ' || i
         ELSE 'Article un peu léger, il manque les chiffres de l''Arcep, voir le rapport ' || i || '.'
       END, 'h' || i, 'fr',
       CASE WHEN i % 6 = 4 THEN 'pending' ELSE 'published' END,
       datetime('now', printf('-%d seconds', 29 * 86400 - (i * 29 * 86400) / $N)),
       datetime('now', printf('-%d seconds', 29 * 86400 - (i * 29 * 86400) / $N)) FROM n;
INSERT INTO decisions (comment_id, site_id, actor, source, to_status, note, created_at)
SELECT id, 1, 'policy', 'automated', status, 'verdict ' || CASE status WHEN 'pending' THEN 'review' ELSE 'allow' END, created_at FROM comments;
INSERT INTO decisions (comment_id, site_id, actor, actor_key_id, source, from_status, to_status, reason, created_at, action)
SELECT id, 1, 'mod', 1, 'human', status, CASE WHEN id % 6 IN (2, 4) THEN 'rejected' ELSE 'approved' END,
       CASE WHEN id % 6 IN (2, 4) THEN 'insult' END, created_at,
       CASE WHEN id % 6 IN (2, 4) THEN 'reject' ELSE 'approve' END FROM comments WHERE id % 2 = 0;
SQL
/usr/bin/time -f "elapsed %e s, max RSS %M KiB" "$BIN" backtest --site bench \
  --thresholds '{"toxicity":{"review":0.5,"reject":0.9}}'
