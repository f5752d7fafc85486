-- End of life of demandes and drafts (PostgreSQL). The SQLite twin in
-- ../sqlite/ has the same tables and indexes.

-- The trash: when each demande in it entered it. Purged by the scheduler
-- once the configured trash period is over (read by `trashed_at`).
CREATE TABLE trash (
    demande_id TEXT PRIMARY KEY REFERENCES demandes (id) ON DELETE CASCADE,
    trashed_at BIGINT NOT NULL
);
CREATE INDEX trash_trashed_at ON trash (trashed_at);
-- Demandes already in the trash count from their last write.
INSERT INTO trash (demande_id, trashed_at)
    SELECT id, updated_at FROM demandes WHERE phase = 'trashed';

-- Drafts expire after a configured delay since their last save.
CREATE INDEX drafts_updated_at ON drafts (updated_at);
