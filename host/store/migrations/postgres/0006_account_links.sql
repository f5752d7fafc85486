-- Account links and how the platform uses a connector instance (see
-- host/store/src/link.rs and host/store/src/registry.rs), PostgreSQL.
-- The SQLite twin in ../sqlite/ has the same tables and columns.

-- How the platform uses an instance, beside its connector's settings:
-- the data source that proves an account link and the parameters an
-- usager may give it (link, JSON, or NULL when the instance offers no
-- link), and the minutes between two readings of a transmitted record
-- (NULL: the démarche's). Kept apart from connector_instances, which is
-- rewritten whole at each activation and rollback, and without a foreign
-- key to it: an instance may run configured in memory only (the runtime's
-- tests, `guichet connector call`).
CREATE TABLE connector_instance_uses (
    instance_id TEXT PRIMARY KEY,
    link TEXT,
    sync_every_minutes BIGINT,
    updated_at BIGINT NOT NULL
);

-- An usager's account linked to their record at a vendor (a family at
-- Espace famille), once per instance: the record's id and label as the
-- vendor's link source answered, and the agent who linked on the
-- usager's behalf (NULL when the usager did it with the vendor's proof).
-- Gone with the account (ON DELETE CASCADE).
CREATE TABLE account_links (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    instance_id TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    label TEXT NOT NULL,
    linked_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, instance_id)
);
CREATE INDEX account_links_linked_by ON account_links (linked_by);
