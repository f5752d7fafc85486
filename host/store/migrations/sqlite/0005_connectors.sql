-- The persistent connector registry (see host/store/src/registry.rs),
-- SQLite. The PostgreSQL twin in ../postgres/ has the same tables and
-- columns.

-- Installed connector versions, by the SHA-256 of their bytes. A name and
-- a version name one content only, as a released WIT version is frozen.
CREATE TABLE connector_versions (
    sha256 TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    component BLOB NOT NULL,
    installed_at INTEGER NOT NULL,
    UNIQUE (name, version)
);

-- Configured instances: the active version, the one a rollback returns
-- to, the settings in clear and the secrets (the properties the
-- connector's schema marks "x-secret") sealed under the instance's data
-- key (key_id, in data_keys).
CREATE TABLE connector_instances (
    id TEXT PRIMARY KEY,
    connector TEXT NOT NULL,
    version TEXT NOT NULL,
    previous_version TEXT,
    settings TEXT NOT NULL,
    secrets TEXT NOT NULL,
    allowed_hosts TEXT NOT NULL,
    timeout_ms INTEGER,
    memory_mib INTEGER,
    http TEXT NOT NULL,
    key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    FOREIGN KEY (connector, version) REFERENCES connector_versions (name, version),
    FOREIGN KEY (connector, previous_version) REFERENCES connector_versions (name, version)
);
CREATE INDEX connector_instances_key ON connector_instances (key_id);
