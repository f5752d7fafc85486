-- Guichet schema, PostgreSQL. Numbered and immutable once landed: change the
-- schema with a new file. The SQLite twin in ../sqlite/ has the same
-- tables, columns and indexes; only the types of integers and the
-- history sequence differ.

-- Démarches and their versions.
CREATE TABLE demarches (
    slug TEXT PRIMARY KEY,
    numero_prefix TEXT NOT NULL,
    latest_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE demarche_versions (
    slug TEXT NOT NULL REFERENCES demarches (slug),
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    keywords TEXT NOT NULL,
    visibility TEXT NOT NULL,
    open_from TEXT,
    open_until TEXT,
    search_text TEXT NOT NULL,
    definition TEXT NOT NULL,
    source TEXT NOT NULL,
    source_format TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (slug, version)
);

CREATE TABLE numero_counters (
    slug TEXT NOT NULL REFERENCES demarches (slug),
    year BIGINT NOT NULL,
    last_number BIGINT NOT NULL,
    PRIMARY KEY (slug, year)
);

-- Accounts.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    profile TEXT NOT NULL,
    password_hash TEXT,
    disabled_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Groups (Role_Collectivité_Direction_Service) and grants.
CREATE TABLE agent_groups (
    name TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_name TEXT NOT NULL REFERENCES agent_groups (name) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_name, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE grants (
    group_name TEXT NOT NULL REFERENCES agent_groups (name) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_name, scope)
);

-- Drafts.
CREATE TABLE drafts (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    version BIGINT NOT NULL,
    answers TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (owner_id, slug, version),
    FOREIGN KEY (slug, version) REFERENCES demarche_versions (slug, version)
);

-- Demandes: indexed columns beside the whole demande as JSON (`data`).
CREATE TABLE demandes (
    id TEXT PRIMARY KEY,
    numero TEXT NOT NULL,
    slug TEXT NOT NULL,
    version BIGINT NOT NULL,
    usager_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    status TEXT NOT NULL,
    phase TEXT NOT NULL,
    primary_service TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    processing_deadline BIGINT,
    on_hold_since BIGINT,
    revision BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (slug, numero),
    FOREIGN KEY (slug, version) REFERENCES demarche_versions (slug, version)
);
CREATE INDEX demandes_usager ON demandes (usager_id, submitted_at);
CREATE INDEX demandes_deadline ON demandes (processing_deadline);
CREATE INDEX demandes_slug_status ON demandes (slug, status);

CREATE TABLE demande_services (
    demande_id TEXT NOT NULL REFERENCES demandes (id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    PRIMARY KEY (demande_id, service)
);
CREATE INDEX demande_services_service ON demande_services (service, demande_id);

CREATE TABLE history (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    demande_id TEXT NOT NULL REFERENCES demandes (id) ON DELETE CASCADE,
    occurred_at BIGINT NOT NULL,
    audience TEXT NOT NULL,
    author_kind TEXT NOT NULL,
    author_id TEXT,
    event TEXT NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    message TEXT,
    attachment TEXT
);
CREATE INDEX history_demande ON history (demande_id, seq);

-- Timers: at most one per (demande, kind), read by due date.
CREATE TABLE timers (
    demande_id TEXT NOT NULL REFERENCES demandes (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    claimed_by TEXT,
    lease_until BIGINT,
    PRIMARY KEY (demande_id, kind)
);
CREATE INDEX timers_due_at ON timers (due_at);

-- The durable outbox.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    demande_id TEXT REFERENCES demandes (id) ON DELETE CASCADE,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_by TEXT,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, next_attempt_at);
CREATE INDEX jobs_demande ON jobs (demande_id);

-- Attachments (content on disk, see FileStore) and deletions to carry out.
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    draft_id TEXT REFERENCES drafts (id),
    demande_id TEXT REFERENCES demandes (id),
    field_id TEXT,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK ((draft_id IS NULL) <> (demande_id IS NULL))
);
CREATE INDEX files_draft ON files (draft_id);
CREATE INDEX files_demande ON files (demande_id);

CREATE TABLE file_deletions (
    file_id TEXT PRIMARY KEY,
    requested_at BIGINT NOT NULL
);

-- Connectors: the journal of calls and the link of a demande to its
-- record in a business application.
CREATE TABLE connector_calls (
    id TEXT PRIMARY KEY,
    connector TEXT NOT NULL,
    connector_version TEXT NOT NULL,
    instance TEXT NOT NULL,
    operation TEXT NOT NULL,
    called_at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT,
    logs TEXT NOT NULL,
    exchanges TEXT NOT NULL,
    demande_id TEXT REFERENCES demandes (id) ON DELETE SET NULL
);
CREATE INDEX connector_calls_instance ON connector_calls (instance, called_at);
CREATE INDEX connector_calls_demande ON connector_calls (demande_id, called_at);
CREATE INDEX connector_calls_called_at ON connector_calls (called_at);

CREATE TABLE connector_links (
    demande_id TEXT NOT NULL REFERENCES demandes (id) ON DELETE CASCADE,
    instance TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    display_id TEXT,
    remote_status TEXT,
    card TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (demande_id, instance)
);
CREATE INDEX connector_links_remote ON connector_links (instance, remote_id);
