-- Links that let a person choose their password: "mot de passe oublié"
-- (purpose `reset`) and the account an agent created for an usager
-- (purpose `claim`). The link's secret is never stored: the mail carries
-- the row's id signed with the host's master key (see
-- host/store/src/password_link.rs).
CREATE TABLE password_links (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_links_user ON password_links (user_id, created_at);
