-- The durable journal and the dead letters (see host/store/src/connector.rs
-- and host/store/src/job.rs). The SQLite twin in ../sqlite/ has the same
-- columns.

-- A job failed for good that an administrator gave up: who and when. Its
-- status is then 'abandoned' and it leaves the failed jobs for good.
ALTER TABLE jobs ADD COLUMN abandoned_by TEXT;
ALTER TABLE jobs ADD COLUMN abandoned_at BIGINT;

-- The job whose attempt made a call (a transmission, a reading of the
-- vendor's record), written in the same transaction as that attempt's
-- outcome; NULL for the calls made outside jobs (lookups, checks).
ALTER TABLE connector_calls ADD COLUMN job_id TEXT;

-- The journal per connector, latest first.
CREATE INDEX connector_calls_connector ON connector_calls (connector, called_at);
