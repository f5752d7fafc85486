-- Demandes change often after their filing (a step, a reminder, a timer
-- moved). Leaving a fifth of each page free lets PostgreSQL write the new
-- version of a row beside the old one (a HOT update) when no indexed
-- column changes — a reminder writes `last_reminder`, `revision`,
-- `updated_at` and the sealed data only — instead of adding an entry to
-- each of the table's indexes, whose cost grows with the number of
-- demandes stored (BENCHMARKS.md, the scheduler). Pages written from now
-- on keep the space; SQLite has no such setting.
ALTER TABLE demandes SET (fillfactor = 80);
