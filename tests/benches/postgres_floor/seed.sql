-- A démarche, its version, 16 usagers (one per client), a data key, the
-- sequence of sequence_submission.sql and the baseline's table.
INSERT INTO demarches VALUES ('cvc','CVC',1,0,0);
INSERT INTO demarche_versions VALUES ('cvc',1,'t','c','k','public',NULL,NULL,'s','{}','s','yaml',0,0);
INSERT INTO users SELECT 'u'||g, 'l'||g, 'n', 'usager', '{}', NULL, NULL, 0 FROM generate_series(0,15) g;
INSERT INTO data_keys VALUES ('k1','w',0);
CREATE SEQUENCE numero_floor;
CREATE TABLE load_baseline (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, answers TEXT NOT NULL, created_at BIGINT NOT NULL);
VACUUM ANALYZE;
