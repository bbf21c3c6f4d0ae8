-- Site settings an admin sets from the console (issue 18):
-- new_author_premod: an author's comments are held until this many of theirs were approved
-- (NULL: off); appeal_text: how the site's authors appeal, shown in statements of reasons
-- (NULL: the generic redress list only).
ALTER TABLE sites ADD COLUMN new_author_premod INTEGER;
ALTER TABLE sites ADD COLUMN appeal_text TEXT;
