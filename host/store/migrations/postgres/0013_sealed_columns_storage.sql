-- A draft is rewritten at each page saved and deleted at its filing. Its
-- answers are sealed (XChaCha20-Poly1305 output in base64, `seal.rs`),
-- which PostgreSQL's compression cannot shrink: `EXTERNAL` no longer tries
-- (pglz on every value over 2 kB), and a row up to a page long stays
-- inline, so that a save writes one row instead of a row and its value's
-- chunks in the TOAST table and its index, and deletes the previous
-- chunks (BENCHMARKS.md §2). Drafts are never scanned in bulk. Demandes
-- and jobs keep the default: anonymised demandes hold clear JSON, which
-- compresses.
ALTER TABLE drafts ALTER COLUMN answers SET STORAGE EXTERNAL;
ALTER TABLE drafts SET (toast_tuple_target = 8160);
