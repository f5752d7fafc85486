-- The statistics count survey answers by démarche, period, service,
-- score and options chosen: an index holding them all answers without
-- reading the table (see host/store/src/survey.rs).
DROP INDEX survey_answers_demarche;
CREATE INDEX survey_answers_period ON survey_answers (demarche, answered_at, service, score, choices);
