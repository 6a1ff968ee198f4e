/* The support tool's requests on PostgreSQL (backend_admin.h), each on a
 * blocking connection of its own: phonebind-registry admin is a one-shot
 * command, and works on the database while any number of instances
 * serve it. A release or a move takes the terminals' advisory locks, as a
 * claim does, so it never interleaves with one; a revocation tells every
 * instance through NOTIFY in the same transaction (delivered when it
 * commits), and each instance LISTENs (watch_revocations). */
#include "backend_admin.h"
#include "backend_pg_admin.h"
#include "backend_pg_listen.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REVOKED_CHANNEL "phonebind_revoked"

struct backend_watch {
  struct pg_listener *listener;
  struct backend *backend;
  backend_revoked_fn *fn;
  void *userdata;
};

/* One statement with text parameters ($1 may be a binary hash): the
 * result when it succeeded, else NULL (logged; *out_error set). */
static PGresult *query(PGconn *conn, const char *sql, int count, const char *const *values,
                       const uint8_t *hash, int *out_error)
{
  int lengths[4] = {0}, formats[4] = {0};
  const char *params[4] = {0};
  PGresult *res;
  ExecStatusType status;
  const char *state;

  for (int i = 0; i < count; i++)
    params[i] = values[i];
  if (hash) {
    params[0] = (const char *)hash;
    lengths[0] = HASH_SHA256_LEN;
    formats[0] = 1;
  }
  res = PQexecParams(conn, sql, count, NULL, params, lengths, formats, 0);
  status = PQresultStatus(res);
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
    return res;
  state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  *out_error = state && strcmp(state, "23505") == 0 ? -EEXIST : -EIO; /* unique violation */
  if (*out_error == -EIO)
    log_err("database: %s", PQresultErrorMessage(res));
  PQclear(res);
  return NULL;
}

/* Runs sql and drops its result: 0 or -errno. */
static int run(PGconn *conn, const char *sql, int count, const char *const *values,
               const uint8_t *hash)
{
  int error = 0;
  PGresult *res = query(conn, sql, count, values, hash, &error);

  PQclear(res);
  return res ? 0 : error;
}

static uint64_t value_u64(const PGresult *res, int row, int column)
{
  return strtoull(PQgetvalue(res, row, column), NULL, 10);
}

static bool lapsed(struct backend *backend, uint64_t renewed, uint64_t now)
{
  uint64_t ttl = backend_pg_binding_ttl_ms(backend);

  return ttl && now > renewed && now - renewed > ttl;
}

/* The binding, lapsed or not: 1 and *out (and its sequence's text), 0. */
static int read_binding(PGconn *conn, const uint8_t *hash, struct backend_binding_info *out,
                        char seq[24])
{
  int error = 0, found;
  PGresult *res = query(conn,
                        "SELECT account_id, bound_at, renewed_at, seq FROM bindings"
                        " WHERE terminal_hash = $1",
                        1, (const char *const[]){NULL}, hash, &error);

  if (!res)
    return error;
  found = PQntuples(res) == 1;
  if (found) {
    snprintf(out->owner, sizeof out->owner, "%s", PQgetvalue(res, 0, 0));
    out->created_ms = value_u64(res, 0, 1);
    out->renewed_ms = value_u64(res, 0, 2);
    snprintf(seq, 24, "%s", PQgetvalue(res, 0, 3));
  }
  PQclear(res);
  return found;
}

static int pg_show(struct backend *backend, const uint8_t *hash, uint64_t now,
                   struct backend_binding_info *out)
{
  PGconn *conn = backend_pg_connect(backend);
  char seq[24];
  int r = conn ? read_binding(conn, hash, out, seq) : -EIO;

  PQfinish(conn);
  return r == 1 && lapsed(backend, out->renewed_ms, now) ? 0 : r;
}

/* In a transaction under the terminal's advisory lock: the binding goes,
 * its owner's sequence stays as a tombstone. */
static int release_locked(PGconn *conn, const uint8_t *hash, uint64_t now,
                          struct backend_binding_info *out)
{
  char seq[24] = "0", now_text[24];
  int r = run(conn, "SELECT pg_advisory_xact_lock(phonebind_terminal_lock($1))", 1,
              (const char *const[]){NULL}, hash);
  int found = r == 0 ? read_binding(conn, hash, out, seq) : r;

  snprintf(now_text, sizeof now_text, "%" PRIu64, now);
  if (found == 1)
    r = run(conn,
            "INSERT INTO tombstones (terminal_hash, account_id, seq, released_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (terminal_hash, account_id)"
            " DO UPDATE SET seq = excluded.seq, released_at = excluded.released_at",
            4, (const char *const[]){NULL, out->owner, seq, now_text}, hash);
  if (found == 1 && r == 0)
    r = run(conn, "DELETE FROM bindings WHERE terminal_hash = $1", 1, (const char *const[]){NULL},
            hash);
  return r < 0 ? r : found;
}

static int in_transaction(PGconn *conn, int r)
{
  if (r < 0) {
    run(conn, "ROLLBACK", 0, NULL, NULL);
    return r;
  }
  return run(conn, "COMMIT", 0, NULL, NULL);
}

static int pg_release(struct backend *backend, const uint8_t *hash, uint64_t now,
                      struct backend_binding_info *out)
{
  PGconn *conn = backend_pg_connect(backend);
  int r = conn ? run(conn, "BEGIN", 0, NULL, NULL) : -EIO, found = 0;

  if (r == 0) {
    found = release_locked(conn, hash, now, out);
    r = in_transaction(conn, found < 0 ? found : 0);
  }
  PQfinish(conn);
  if (r < 0)
    return r;
  return found == 1 && !lapsed(backend, out->renewed_ms, now);
}

/* The revocation and its news in one transaction: every instance LISTENs. */
static int pg_revoke(struct backend *backend, const char *account, uint64_t now)
{
  PGconn *conn = backend_pg_connect(backend);
  char now_text[24];
  int error = 0, changed = 0, r;
  PGresult *res;

  if (!conn)
    return -EIO;
  snprintf(now_text, sizeof now_text, "%" PRIu64, now);
  r = run(conn, "BEGIN", 0, NULL, NULL);
  res = r == 0
          ? query(conn, "UPDATE accounts SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
                  2, (const char *const[]){account, now_text}, NULL, &error)
          : NULL;
  if (res)
    changed = atoi(PQcmdTuples(res));
  else if (r == 0)
    r = error;
  PQclear(res);
  if (r == 0 && changed)
    r = run(conn, "SELECT pg_notify('" REVOKED_CHANNEL "', $1)", 1, (const char *const[]){account},
            NULL);
  r = in_transaction(conn, r);
  PQfinish(conn);
  return r < 0 ? r : changed > 0;
}

static int pg_stats(struct backend *backend, uint64_t now, struct backend_stats *out)
{
  uint64_t ttl = backend_pg_binding_ttl_ms(backend);
  PGconn *conn = backend_pg_connect(backend);
  char since[24];
  int error = 0;
  PGresult *res;

  if (!conn)
    return -EIO;
  snprintf(since, sizeof since, "%" PRIu64, ttl && now > ttl ? now - ttl : 0);
  res = query(conn,
              "SELECT (SELECT count(*) FROM bindings WHERE renewed_at >= $1),"
              " (SELECT count(*) FROM accounts WHERE revoked_at IS NULL)",
              1, (const char *const[]){since}, NULL, &error);
  if (res) {
    out->bindings = value_u64(res, 0, 0);
    out->accounts = value_u64(res, 0, 1);
  }
  PQclear(res);
  PQfinish(conn);
  return res ? 0 : error;
}

static int pg_create_account(struct backend *backend, const char *name, const uint8_t *token_hash,
                             uint64_t now)
{
  PGconn *conn = backend_pg_connect(backend);
  char now_text[24];
  int r;

  if (!conn)
    return -EIO;
  snprintf(now_text, sizeof now_text, "%" PRIu64, now);
  r = run(conn, "INSERT INTO accounts (token_hash, id, created_at) VALUES ($1, $2, $3)", 3,
          (const char *const[]){NULL, name, now_text}, token_hash);
  PQfinish(conn);
  return r;
}

/* Under every moved terminal's advisory lock (in the lock's order, as
 * claims take one each: no deadlock), so no claim of from's interleaves. */
static int move_locked(PGconn *conn, const char *from, const char *to, uint64_t *out_moved)
{
  int error = 0, r;
  PGresult *res = query(conn,
                        "SELECT count(*) FROM accounts WHERE id IN ($1, $2)"
                        " AND revoked_at IS NULL",
                        2, (const char *const[]){from, to}, NULL, &error);

  if (!res)
    return error;
  r = value_u64(res, 0, 0) == 2 ? 0 : -ENOENT;
  PQclear(res);
  if (r == 0)
    r = run(conn,
            "SELECT pg_advisory_xact_lock(l) FROM (SELECT phonebind_terminal_lock(terminal_hash)"
            " AS l FROM bindings WHERE account_id = $1 ORDER BY 1) locks",
            1, (const char *const[]){from}, NULL);
  res = r == 0 ? query(conn, "UPDATE bindings SET account_id = $2, seq = 0 WHERE account_id = $1",
                       2, (const char *const[]){from, to}, NULL, &error)
               : NULL;
  if (res)
    *out_moved = strtoull(PQcmdTuples(res), NULL, 10);
  else if (r == 0)
    r = error;
  PQclear(res);
  return r;
}

static int pg_move_bindings(struct backend *backend, const char *from, const char *to, uint64_t now,
                            uint64_t *out_moved)
{
  PGconn *conn = backend_pg_connect(backend);
  int r;

  (void)now;
  *out_moved = 0;
  if (!conn)
    return -EIO;
  r = run(conn, "BEGIN", 0, NULL, NULL);
  if (r == 0)
    r = in_transaction(conn, move_locked(conn, from, to, out_moved));
  PQfinish(conn);
  return r;
}

static PGconn *connect_for_listener(void *userdata)
{
  return backend_pg_connect(userdata);
}

static void on_notified(const char *payload, void *userdata)
{
  struct backend_watch *watch = userdata;

  if (payload)
    log_info("account %s revoked: its tokens are refused from now on", payload);
  watch->fn(payload, watch->userdata);
}

static int pg_watch_revocations(struct backend *backend, backend_revoked_fn *fn, void *userdata,
                                struct backend_watch **out_watch)
{
  struct backend_watch *watch = xcalloc(1, sizeof *watch);

  watch->backend = backend;
  watch->fn = fn;
  watch->userdata = userdata;
  watch->listener =
    pg_listener_start(REVOKED_CHANNEL, connect_for_listener, backend, on_notified, watch);
  if (!watch->listener) {
    free(watch);
    return -EAGAIN;
  }
  *out_watch = watch;
  return 0;
}

static void pg_unwatch(struct backend_watch *watch)
{
  if (!watch)
    return;
  pg_listener_stop(watch->listener);
  free(watch);
}

const struct backend_admin_ops backend_pg_admin_ops = {
  .show = pg_show,
  .release = pg_release,
  .revoke = pg_revoke,
  .stats = pg_stats,
  .create_account = pg_create_account,
  .move_bindings = pg_move_bindings,
  .watch_revocations = pg_watch_revocations,
  .unwatch = pg_unwatch,
};
