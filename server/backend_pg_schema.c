/* The PostgreSQL schema and its migration; see backend_pg_schema.h. */
#include "backend_pg_schema.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Version 1, as SQLite's: accounts and bindings, times in seconds. */
static const char schema_v1[] =
  "CREATE TABLE accounts ("
  "  id text PRIMARY KEY,"
  "  token_hash bytea NOT NULL UNIQUE,"
  "  created_at bigint NOT NULL);"
  "CREATE TABLE bindings ("
  "  terminal_hash bytea PRIMARY KEY,"
  "  account_id text NOT NULL REFERENCES accounts(id),"
  "  bound_at bigint NOT NULL,"
  "  renewed_at bigint NOT NULL);";

/* Version 2, as SQLite's: the key's check value, fencing (each binding's
 * sequence and a tombstone per terminal and account), times in
 * milliseconds; sequences are the signed bigint of the same 64 bits.
 *
 * Claims and releases are one statement each, a call of these functions:
 * each takes a transaction-scoped advisory lock on its terminal (the
 * first 64 bits of its keyed hash), so the fence is read and the write
 * made by one request of that terminal at a time, across every instance;
 * the lock goes with the commit. The rules are fence.c's, line by line
 * (the same cases are tested against both backends); answers are the
 * numbers of enum claim_result and enum release_result. Sequences compare
 * as unsigned: both sides with the top bit flipped. */
static const char schema_v2[] =
  "CREATE TABLE meta ("
  "  name text PRIMARY KEY,"
  "  value bytea NOT NULL);"
  "UPDATE accounts SET created_at = created_at * 1000;"
  "UPDATE bindings SET bound_at = bound_at * 1000, renewed_at = renewed_at * 1000;"
  "ALTER TABLE bindings ADD COLUMN seq bigint NOT NULL DEFAULT 0;"
  "CREATE TABLE tombstones ("
  "  terminal_hash bytea NOT NULL,"
  "  account_id text NOT NULL REFERENCES accounts(id),"
  "  seq bigint NOT NULL,"
  "  released_at bigint NOT NULL,"
  "  PRIMARY KEY (terminal_hash, account_id));"
  "CREATE INDEX tombstones_released_at ON tombstones (released_at);"
  "CREATE FUNCTION phonebind_terminal_lock(p_terminal bytea) RETURNS bigint"
  "  LANGUAGE sql IMMUTABLE STRICT"
  "  AS $$ SELECT ('x' || encode(substring(p_terminal FROM 1 FOR 8), 'hex'))::bit(64)::bigint $$;"
  "CREATE FUNCTION phonebind_fence_state(p_terminal bytea, p_account text,"
  "    OUT owner text, OUT stored bigint, OUT has_tombstone boolean)"
  "  LANGUAGE plpgsql AS $$"
  "BEGIN"
  "  PERFORM pg_advisory_xact_lock(phonebind_terminal_lock(p_terminal));"
  "  SELECT b.account_id, b.seq INTO owner, stored FROM bindings b"
  "    WHERE b.terminal_hash = p_terminal;"
  "  has_tombstone := false;"
  "  IF owner IS DISTINCT FROM p_account THEN"
  "    SELECT t.seq INTO stored FROM tombstones t"
  "      WHERE t.terminal_hash = p_terminal AND t.account_id = p_account;"
  "    has_tombstone := FOUND;"
  "    stored := coalesce(stored, 0);"
  "  END IF;"
  "END $$;"
  "CREATE FUNCTION phonebind_claim(p_terminal bytea, p_account text, p_seq bigint,"
  "    p_now bigint, OUT answer integer, OUT stored bigint)"
  "  LANGUAGE plpgsql AS $$"
  "DECLARE"
  "  flip CONSTANT bigint := -9223372036854775808;"
  "  v_owner text;"
  "  v_ours boolean;"
  "  v_has_tombstone boolean;"
  "  v_op text := 'nothing';"
  "  v_seq bigint;"
  "BEGIN"
  "  SELECT s.owner, s.stored, s.has_tombstone INTO v_owner, stored, v_has_tombstone"
  "    FROM phonebind_fence_state(p_terminal, p_account) s;"
  "  v_ours := v_owner IS NOT NULL AND v_owner = p_account;"
  "  IF p_seq = 0 THEN"
  "    IF v_owner IS NULL THEN answer := 0; v_op := 'bind'; v_seq := stored;"
  "    ELSIF v_ours THEN answer := 1; v_op := 'renew'; v_seq := stored;"
  "    ELSE answer := 2;"
  "    END IF;"
  "  ELSIF (p_seq # flip) < (stored # flip) THEN answer := 3;"
  "  ELSIF p_seq = stored THEN"
  "    answer := CASE WHEN v_owner IS NULL THEN 3 WHEN v_ours THEN 1 ELSE 2 END;"
  "  ELSIF v_owner IS NULL THEN answer := 0; v_op := 'bind'; v_seq := p_seq;"
  "  ELSIF v_ours THEN answer := 1; v_op := 'renew'; v_seq := p_seq;"
  "  ELSE answer := 2;"
  "  END IF;"
  "  IF v_op = 'bind' THEN"
  "    INSERT INTO bindings (terminal_hash, account_id, bound_at, renewed_at, seq)"
  "      VALUES (p_terminal, p_account, p_now, p_now, v_seq);"
  "    IF v_has_tombstone THEN"
  "      DELETE FROM tombstones WHERE terminal_hash = p_terminal AND account_id = p_account;"
  "    END IF;"
  "  ELSIF v_op = 'renew' THEN"
  "    UPDATE bindings SET renewed_at = p_now, seq = v_seq"
  "      WHERE terminal_hash = p_terminal AND account_id = p_account;"
  "  END IF;"
  "END $$;"
  "CREATE FUNCTION phonebind_release(p_terminal bytea, p_account text, p_seq bigint,"
  "    p_now bigint, OUT answer integer, OUT stored bigint)"
  "  LANGUAGE plpgsql AS $$"
  "DECLARE"
  "  flip CONSTANT bigint := -9223372036854775808;"
  "  v_owner text;"
  "  v_ours boolean;"
  "  v_has_tombstone boolean;"
  "  v_op text := 'nothing';"
  "  v_seq bigint;"
  "BEGIN"
  "  SELECT s.owner, s.stored, s.has_tombstone INTO v_owner, stored, v_has_tombstone"
  "    FROM phonebind_fence_state(p_terminal, p_account) s;"
  "  v_ours := v_owner IS NOT NULL AND v_owner = p_account;"
  "  answer := CASE WHEN v_owner IS NULL THEN 1 WHEN v_ours THEN 0 ELSE 2 END;"
  "  IF p_seq = 0 THEN"
  "    IF v_ours THEN v_op := 'unbind'; v_seq := stored; END IF;"
  "  ELSIF (p_seq # flip) < (stored # flip) THEN answer := 3;"
  "  ELSIF p_seq = stored THEN"
  "    IF v_ours THEN answer := 3; END IF;"
  "  ELSIF v_ours THEN v_op := 'unbind'; v_seq := p_seq;"
  "  ELSE v_op := 'tombstone'; v_seq := p_seq;"
  "  END IF;"
  "  IF v_op = 'unbind' THEN"
  "    DELETE FROM bindings WHERE terminal_hash = p_terminal;"
  "  END IF;"
  "  IF v_op IN ('unbind', 'tombstone') THEN"
  "    INSERT INTO tombstones (terminal_hash, account_id, seq, released_at)"
  "      VALUES (p_terminal, p_account, v_seq, p_now)"
  "      ON CONFLICT (terminal_hash, account_id)"
  "      DO UPDATE SET seq = excluded.seq, released_at = excluded.released_at;"
  "  END IF;"
  "END $$;";

/* Version 3, as SQLite's: revocation (accounts.revoked_at), and
 * binding-ttl. A claim or a release first settles a lapsed binding (not
 * renewed for longer than p_ttl milliseconds; 0: never) into its owner's
 * tombstone, keeping its sequence, under the terminal's advisory lock
 * (re-entrant: the version 2 functions it then calls take it again). The
 * version 2 functions stay, for instances not upgraded yet. */
static const char schema_v3[] =
  "ALTER TABLE accounts ADD COLUMN revoked_at bigint;"
  "CREATE FUNCTION phonebind_settle_lapsed(p_terminal bytea, p_now bigint, p_ttl bigint)"
  "  RETURNS void LANGUAGE plpgsql AS $$"
  "DECLARE"
  "  v_owner text;"
  "  v_seq bigint;"
  "  v_renewed bigint;"
  "BEGIN"
  "  IF p_ttl <= 0 THEN RETURN; END IF;"
  "  PERFORM pg_advisory_xact_lock(phonebind_terminal_lock(p_terminal));"
  "  SELECT b.account_id, b.seq, b.renewed_at INTO v_owner, v_seq, v_renewed FROM bindings b"
  "    WHERE b.terminal_hash = p_terminal;"
  "  IF FOUND AND p_now - v_renewed > p_ttl THEN"
  "    INSERT INTO tombstones (terminal_hash, account_id, seq, released_at)"
  "      VALUES (p_terminal, v_owner, v_seq, p_now)"
  "      ON CONFLICT (terminal_hash, account_id)"
  "      DO UPDATE SET seq = excluded.seq, released_at = excluded.released_at;"
  "    DELETE FROM bindings WHERE terminal_hash = p_terminal;"
  "  END IF;"
  "END $$;"
  "CREATE FUNCTION phonebind_claim(p_terminal bytea, p_account text, p_seq bigint,"
  "    p_now bigint, p_ttl bigint, OUT answer integer, OUT stored bigint)"
  "  LANGUAGE plpgsql AS $$"
  "BEGIN"
  "  PERFORM phonebind_settle_lapsed(p_terminal, p_now, p_ttl);"
  "  SELECT c.answer, c.stored INTO answer, stored"
  "    FROM phonebind_claim(p_terminal, p_account, p_seq, p_now) c;"
  "END $$;"
  "CREATE FUNCTION phonebind_release(p_terminal bytea, p_account text, p_seq bigint,"
  "    p_now bigint, p_ttl bigint, OUT answer integer, OUT stored bigint)"
  "  LANGUAGE plpgsql AS $$"
  "BEGIN"
  "  PERFORM phonebind_settle_lapsed(p_terminal, p_now, p_ttl);"
  "  SELECT c.answer, c.stored INTO answer, stored"
  "    FROM phonebind_release(p_terminal, p_account, p_seq, p_now) c;"
  "END $$;";

static const char *const schema_steps[PG_SCHEMA_VERSION + 1] = {
  [1] = schema_v1, [2] = schema_v2, [3] = schema_v3};

/* Parameters: $1 terminal or token hash (binary), then text. */
const struct pg_statement_text pg_statements[PG_STATEMENT_COUNT] = {
  /* $2 the binding TTL (0: never), $3 now: a lapsed binding is no binding */
  [PG_LOOKUP] = {"pb_lookup",
                 "SELECT account_id FROM bindings WHERE terminal_hash = $1"
                 " AND ($2::bigint = 0 OR $3::bigint - renewed_at <= $2::bigint)",
                 3},
  [PG_CLAIM] = {"pb_claim",
                "SELECT answer, stored FROM phonebind_claim($1, $2, $3, $4, $5::bigint)", 5},
  [PG_RELEASE] = {"pb_release",
                  "SELECT answer, stored FROM phonebind_release($1, $2, $3, $4, $5::bigint)", 5},
  [PG_CREATE_ACCOUNT] = {"pb_create_account",
                         "INSERT INTO accounts (id, token_hash, created_at) VALUES ($2, $1, $3)"
                         " ON CONFLICT (id) DO NOTHING RETURNING id",
                         3},
  [PG_FIND_ACCOUNT] = {"pb_find_account",
                       "SELECT id FROM accounts WHERE token_hash = $1 AND revoked_at IS NULL", 1},
  /* a server that became a standby answers true: not one to write to */
  [PG_HEALTH] = {"pb_health", "SELECT pg_is_in_recovery()", 0},
  [PG_PURGE_TOMBSTONES] = {"pb_purge_tombstones", "DELETE FROM tombstones WHERE released_at < $1",
                           1},
};

/* PostgreSQL's notices ("relation exists, skipping") are no one's business
 * but a debugging person's. */
int pg_exec(PGconn *conn, const char *sql)
{
  PGresult *res = PQexec(conn, sql);
  ExecStatusType status = PQresultStatus(res);
  int r = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ? 0 : -EIO;

  if (r < 0)
    log_err("database: %s", PQresultErrorMessage(res));
  PQclear(res);
  return r;
}

/* The version the database is at; 0 for a database without our tables. */
static int read_version(PGconn *conn, int *out_version)
{
  PGresult *res;
  int r = pg_exec(conn, "CREATE TABLE IF NOT EXISTS phonebind_schema (version integer NOT NULL)");

  if (r < 0)
    return r;
  res = PQexec(conn, "SELECT coalesce(max(version), 0) FROM phonebind_schema");
  if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
    *out_version = atoi(PQgetvalue(res, 0, 0));
  else
    r = -EIO;
  if (r < 0)
    log_err("database: cannot read the schema version: %s", PQresultErrorMessage(res));
  PQclear(res);
  return r;
}

/* One step in a transaction of its own: a crash in the middle leaves the
 * version before, never half of this one. */
static int migrate_step(PGconn *conn, int version)
{
  char set_version[96];
  int r;

  snprintf(set_version, sizeof set_version,
           "DELETE FROM phonebind_schema; INSERT INTO phonebind_schema VALUES (%d); COMMIT",
           version);
  r = pg_exec(conn, "BEGIN");
  if (r == 0)
    r = pg_exec(conn, schema_steps[version]);
  if (r == 0)
    r = pg_exec(conn, set_version);
  if (r < 0)
    pg_exec(conn, "ROLLBACK");
  return r;
}

int pg_schema_migrate(PGconn *conn, const char *shown)
{
  int version = 0, r = read_version(conn, &version);

  if (r < 0)
    return r;
  if (version > PG_SCHEMA_VERSION) {
    log_err("database %s has schema version %d; this registry knows up to %d", shown, version,
            PG_SCHEMA_VERSION);
    return -EPROTO;
  }
  for (int next = version + 1; next <= PG_SCHEMA_VERSION && r == 0; next++) {
    r = migrate_step(conn, next);
    if (r == 0 && version > 0)
      log_info("database %s: schema upgraded to version %d", shown, next);
  }
  return r;
}
