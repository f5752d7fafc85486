-- A demande's data is sealed at filing (XChaCha20-Poly1305 output in
-- base64, `seal.rs`), about 3 kB for a 20-field form: over the 2 kB at
-- which PostgreSQL starts to shrink a row, so every filing tried pglz on
-- incompressible text, then wrote the value as chunks in the TOAST table
-- and its index, and every read of the demande put them together again.
-- A row is now shrunk only past a page (8160 bytes): up to that, its
-- data stays in the row, uncompressed. A larger one (a long form, an
-- anonymised demande's clear JSON) is compressed and moved out as before.
ALTER TABLE demandes SET (toast_tuple_target = 8160);
