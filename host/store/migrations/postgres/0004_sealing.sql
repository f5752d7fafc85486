-- Sealing of personal values (see host/store/src/seal.rs), PostgreSQL. The
-- SQLite twin in ../sqlite/ has the same tables and columns.

-- Data keys, wrapped under the host's master key; deleted when nothing
-- names them any more (a draft deleted, a demande anonymised or purged).
CREATE TABLE data_keys (
    id TEXT PRIMARY KEY,
    wrapped TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A value wrapped under the master key: a host started with another
-- master key refuses to start.
CREATE TABLE sealing_check (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    check_value TEXT NOT NULL
);

-- The key of each owner of sealed values. NULL: values in clear (rows
-- written before sealing, or rewritten by an anonymisation).
ALTER TABLE drafts ADD COLUMN key_id TEXT;
ALTER TABLE demandes ADD COLUMN key_id TEXT;
ALTER TABLE jobs ADD COLUMN key_id TEXT;
CREATE INDEX drafts_key ON drafts (key_id);
CREATE INDEX demandes_key ON demandes (key_id);
CREATE INDEX jobs_key ON jobs (key_id);
