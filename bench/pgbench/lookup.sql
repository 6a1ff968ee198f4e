-- pgbench: what one lookup through the registry costs the database, the
-- statement server/backend_pg_schema.c prepares as pb_lookup, for an
-- unbound terminal each time (as bench/lookup.lua).
\set n random(1, 4000000000000000000)
SELECT account_id FROM bindings WHERE terminal_hash = sha256(('lookup-' || :n)::bytea);
