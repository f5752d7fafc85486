-- A draft belongs to its author and to the usager it is filed for (several
-- drafts of one démarche version per agent, one per usager); a revision
-- makes every read-modify-write of a draft atomic. SQLite cannot drop the
-- UNIQUE constraint of 0001: the table is rebuilt (SQLite's documented
-- procedure; `Store::migrate` runs migrations with foreign keys off, then
-- checks them).
CREATE TABLE drafts_rebuilt (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    usager_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    version INTEGER NOT NULL,
    answers TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    FOREIGN KEY (slug, version) REFERENCES demarche_versions (slug, version)
);
INSERT INTO drafts_rebuilt (id, owner_id, usager_id, slug, version, answers, revision, created_at, updated_at)
    SELECT d.id, d.owner_id, CASE WHEN u.kind = 'usager' THEN d.owner_id END,
           d.slug, d.version, d.answers, 1, d.created_at, d.updated_at
    FROM drafts d JOIN users u ON u.id = d.owner_id;
DROP TABLE drafts;
ALTER TABLE drafts_rebuilt RENAME TO drafts;
CREATE INDEX drafts_owner ON drafts (owner_id, slug, version);
-- One draft per author, usager and version (an usager's own drafts have
-- usager_id = owner_id); an agent's drafts for no account are not unique.
CREATE UNIQUE INDEX drafts_one_per_usager ON drafts (owner_id, usager_id, slug, version)
    WHERE usager_id IS NOT NULL;
CREATE INDEX drafts_usager ON drafts (usager_id);
