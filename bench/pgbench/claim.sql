-- pgbench: what one claim through the registry costs the database, the
-- statement server/backend_pg_schema.c prepares as pb_claim, with a new
-- terminal each time (as bench/claim.lua: an insert, no sequence header).
-- :account and :now come from bench/registry-load-pg.py (-D).
\set n random(1, 4000000000000000000)
SELECT answer, stored FROM phonebind_claim(sha256(('pgbench-' || :client_id || '-' || :n)::bytea), :account, 0, :now);
