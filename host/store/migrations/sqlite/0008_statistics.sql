-- Statistics and the processing table's reminder flag (see
-- host/store/src/statistics.rs), SQLite. The PostgreSQL twin in
-- ../postgres/ has the same columns and indexes.

-- What the statistics count, kept on the demande by the store in the
-- transaction of each outcome (host/store/src/outcome.rs), from the
-- demande's own dates (guichet_core::demande::KeyDates), so that no
-- statistic reads the sealed `data`:
-- - analysis_started_at: entry into « en cours d'analyse » (deadlines count
--   from here), epoch ms;
-- - closed_at: entry into a closing status, epoch ms;
-- - hold_ms: time spent on hold in the holds that ended (the open one is
--   `on_hold_since`);
-- - closing: how it closed — 'processed' (traitée), 'refused' (refused or
--   cancelled by the service, see refusal_type) or 'abandoned' (by the
--   usager);
-- - refusal_type: 'refusee', 'annulee', 'absence_reponse_usager';
-- - processing_ms: closed_at − analysis_started_at − hold_ms, for the
--   closings by the service after analysis (NULL otherwise);
-- - last_reminder: the days of the last agent reminder sent (15, 21), 0
--   when none.
ALTER TABLE demandes ADD COLUMN analysis_started_at INTEGER;
ALTER TABLE demandes ADD COLUMN closed_at INTEGER;
ALTER TABLE demandes ADD COLUMN hold_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE demandes ADD COLUMN closing TEXT;
ALTER TABLE demandes ADD COLUMN refusal_type TEXT;
ALTER TABLE demandes ADD COLUMN processing_ms INTEGER;
ALTER TABLE demandes ADD COLUMN last_reminder INTEGER NOT NULL DEFAULT 0;

-- Backfill of the demandes written before this migration, from their
-- history (its status and event columns are in clear; the demande's data
-- is sealed). It knows the statuses and events of the standard paths
-- only: en_cours_analyse, the closing statuses traitee, refusee,
-- abandonnee, annulee_absence_reponse, the holds (mettre_en_attente until
-- the next entry in another status) and the reminders (relance, counted
-- as 15 then 21 days, the standard reminders). The type of a refusal is
-- written only in the sealed text of its entry: refusals backfilled here
-- have none, but cancellations for no answer. Only what happened since the
-- last return to « transmise » counts, as the workflow resets it.
UPDATE demandes SET analysis_started_at = (
    SELECT MIN(h.occurred_at) FROM history h
    WHERE h.demande_id = demandes.id AND h.status = 'en_cours_analyse'
      AND h.seq > COALESCE((SELECT MAX(r.seq) FROM history r
                            WHERE r.demande_id = demandes.id AND r.event = 'retour_transmise'), 0))
WHERE phase <> 'submitted';

UPDATE demandes SET closed_at = (
    SELECT MIN(h.occurred_at) FROM history h
    WHERE h.demande_id = demandes.id
      AND h.status IN ('traitee', 'refusee', 'abandonnee', 'annulee_absence_reponse')
      AND h.seq > COALESCE((SELECT MAX(r.seq) FROM history r
                            WHERE r.demande_id = demandes.id AND r.event = 'retour_transmise'), 0))
WHERE phase IN ('closed', 'archived', 'anonymised', 'trashed');

UPDATE demandes SET
    closing = CASE (SELECT h.status FROM history h
                    WHERE h.demande_id = demandes.id AND h.occurred_at = demandes.closed_at
                      AND h.status IN ('traitee', 'refusee', 'abandonnee', 'annulee_absence_reponse')
                    ORDER BY h.seq LIMIT 1)
        WHEN 'traitee' THEN 'processed'
        WHEN 'refusee' THEN 'refused'
        WHEN 'abandonnee' THEN 'abandoned'
        WHEN 'annulee_absence_reponse' THEN 'refused' END,
    refusal_type = CASE (SELECT h.status FROM history h
                         WHERE h.demande_id = demandes.id AND h.occurred_at = demandes.closed_at
                           AND h.status = 'annulee_absence_reponse' LIMIT 1)
        WHEN 'annulee_absence_reponse' THEN 'absence_reponse_usager' END
WHERE closed_at IS NOT NULL;

UPDATE demandes SET hold_ms = COALESCE((
    SELECT SUM((SELECT MIN(e.occurred_at) FROM history e
                WHERE e.demande_id = s.demande_id AND e.seq > s.seq AND e.status <> 'en_attente')
               - s.occurred_at)
    FROM history s
    WHERE s.demande_id = demandes.id AND s.event = 'mettre_en_attente'
      AND s.seq > COALESCE((SELECT MAX(r.seq) FROM history r
                            WHERE r.demande_id = demandes.id AND r.event = 'retour_transmise'), 0)), 0)
WHERE analysis_started_at IS NOT NULL;

UPDATE demandes SET processing_ms = MAX(closed_at - analysis_started_at - hold_ms, 0)
WHERE closing IN ('processed', 'refused') AND analysis_started_at IS NOT NULL;

UPDATE demandes SET last_reminder = CASE (
    SELECT COUNT(*) FROM history h
    WHERE h.demande_id = demandes.id AND h.event = 'relance'
      AND h.seq > COALESCE((SELECT MAX(r.seq) FROM history r
                            WHERE r.demande_id = demandes.id AND r.event = 'retour_transmise'), 0))
    WHEN 0 THEN 0 WHEN 1 THEN 15 ELSE 21 END
WHERE analysis_started_at IS NOT NULL;

-- The demandes received in a period, by status (covering: no row read);
-- it serves the processing table's status filter too, as the index it
-- replaces did.
DROP INDEX demandes_slug_status;
CREATE INDEX demandes_received ON demandes (slug, status, submitted_at, primary_service);
-- The closings of a period by kind and type, within the deadline or not
-- (covering).
CREATE INDEX demandes_closed ON demandes
    (slug, closing, refusal_type, closed_at, processing_deadline, processing_ms, primary_service);
-- The times to process in order, for the median and the 90th percentile
-- (covering).
CREATE INDEX demandes_duration ON demandes (slug, processing_ms, closed_at, primary_service);
-- The demandes of a phase: never taken (submitted, by filing date), late
-- (in progress, by deadline) and reminded (covering for the first two).
CREATE INDEX demandes_slug_phase ON demandes
    (slug, phase, submitted_at, processing_deadline, on_hold_since, primary_service);
