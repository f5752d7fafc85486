-- Notifications delivered and the satisfaction survey (see
-- host/src/service/notifications.rs and host/store/src/survey.rs). The
-- PostgreSQL twin in ../postgres/ has the same columns.

-- The mailbox of a group: where the mails to its service (a new demande,
-- an abandon, a transfer, a reminder) or to the service it manages go.
ALTER TABLE agent_groups ADD COLUMN mailbox TEXT;

-- One answer per demande to its satisfaction survey. Score and chosen
-- options in clear (statistics); comment and free answers sealed with the
-- demande's key, erased at anonymisation.
CREATE TABLE survey_answers (
    demande_id TEXT PRIMARY KEY REFERENCES demandes (id) ON DELETE CASCADE,
    demarche TEXT NOT NULL,
    service TEXT NOT NULL,
    score BIGINT NOT NULL CHECK (score BETWEEN 1 AND 5),
    choices TEXT NOT NULL,
    comment TEXT,
    free_answers TEXT,
    answered_at BIGINT NOT NULL
);

-- The statistics read answers per démarche and period.
CREATE INDEX survey_answers_demarche ON survey_answers (demarche, answered_at);
