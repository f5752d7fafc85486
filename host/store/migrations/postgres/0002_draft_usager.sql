-- A draft belongs to its author and to the usager it is filed for (several
-- drafts of one démarche version per agent, one per usager); a revision
-- makes every read-modify-write of a draft atomic.
ALTER TABLE drafts DROP CONSTRAINT drafts_owner_id_slug_version_key;
ALTER TABLE drafts ADD COLUMN usager_id TEXT REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE drafts ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
UPDATE drafts SET usager_id = owner_id
    WHERE owner_id IN (SELECT id FROM users WHERE kind = 'usager');
CREATE INDEX drafts_owner ON drafts (owner_id, slug, version);
-- One draft per author, usager and version (an usager's own drafts have
-- usager_id = owner_id); an agent's drafts for no account are not unique.
CREATE UNIQUE INDEX drafts_one_per_usager ON drafts (owner_id, usager_id, slug, version)
    WHERE usager_id IS NOT NULL;
CREATE INDEX drafts_usager ON drafts (usager_id);
