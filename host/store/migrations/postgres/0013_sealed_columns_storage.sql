-- Sealed values are AES-GCM ciphertext in base64 (`seal.rs`): PostgreSQL's
-- compression cannot shrink them, and trying (pglz, on every value over
-- 2 kB) cost about 2 % of the database's CPU under the load benchmark
-- (BENCHMARKS.md §2). `EXTERNAL` keeps a large value out of line without
-- trying to compress it.
ALTER TABLE demandes ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE jobs ALTER COLUMN payload SET STORAGE EXTERNAL;
-- A draft is rewritten at each page saved and deleted at its filing; a row
-- up to a page long stays inline, so that a save writes one row instead of
-- a row and its value's chunks in the TOAST table and index (and deletes
-- the previous chunks). Drafts are never scanned in bulk.
ALTER TABLE drafts ALTER COLUMN answers SET STORAGE EXTERNAL;
ALTER TABLE drafts SET (toast_tuple_target = 8160);
