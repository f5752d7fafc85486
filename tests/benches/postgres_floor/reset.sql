-- Empties what a round wrote, before the drafts are written again.
SET client_min_messages = warning;
TRUNCATE demandes, demande_services, history, jobs, file_deletions, files, drafts, load_baseline, numero_counters CASCADE;
