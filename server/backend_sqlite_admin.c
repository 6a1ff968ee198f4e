/* The support tool's requests on the SQLite backend (backend_admin.h).
 * Each runs under the backend's one lock, like the HTTP layer's, so a
 * command handed to a running registry interleaves with its requests; the
 * few statements are prepared per call (support tasks are rare). */
#include "backend_admin.h"
#include "backend_sqlite.h"
#include "log.h"
#include "sqlite_errno.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BACKUP_PAGES_PER_STEP 256 /* the lock is let go between steps */

static struct backend_sqlite *sqlite_of(struct backend *base)
{
  return (struct backend_sqlite *)base;
}

/* Prepares sql and binds ?1 to a hash or a text, by the first argument
 * given (the other NULL). */
static int prepare_bound(struct backend_sqlite *be, const char *sql, const uint8_t *hash,
                         const char *text, sqlite3_stmt **out_stmt)
{
  int rc = sqlite3_prepare_v2(be->db, sql, -1, out_stmt, NULL);

  if (rc != SQLITE_OK) {
    log_err("database: %s", sqlite3_errmsg(be->db));
    return sqlite_errno(rc);
  }
  if (hash)
    sqlite3_bind_blob(*out_stmt, 1, hash, HASH_SHA256_LEN, SQLITE_STATIC);
  else if (text)
    sqlite3_bind_text(*out_stmt, 1, text, -1, SQLITE_STATIC);
  return 0;
}

/* One statement run to its end: 0 or -errno. */
static int run(struct backend_sqlite *be, const char *sql)
{
  return sqlite_errno(sqlite3_exec(be->db, sql, NULL, NULL, NULL));
}

/* The binding of a terminal, lapsed or not: 1 and *out, 0 when none. */
static int read_binding(struct backend_sqlite *be, const uint8_t *hash,
                        struct backend_binding_info *out, uint64_t *out_seq)
{
  sqlite3_stmt *stmt;
  int r = prepare_bound(be,
                        "SELECT account_id, bound_at, renewed_at, seq FROM bindings"
                        " WHERE terminal_hash = ?1",
                        hash, NULL, &stmt);
  int rc;

  if (r < 0)
    return r;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    snprintf(out->owner, sizeof out->owner, "%s", (const char *)sqlite3_column_text(stmt, 0));
    out->created_ms = (uint64_t)sqlite3_column_int64(stmt, 1);
    out->renewed_ms = (uint64_t)sqlite3_column_int64(stmt, 2);
    *out_seq = (uint64_t)sqlite3_column_int64(stmt, 3);
  }
  sqlite3_finalize(stmt);
  if (rc == SQLITE_ROW)
    return 1;
  return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

static int sqlite_show(struct backend *base, const uint8_t *hash, uint64_t now,
                       struct backend_binding_info *out)
{
  struct backend_sqlite *be = sqlite_of(base);
  uint64_t seq;
  int r;

  pthread_mutex_lock(&be->lock);
  r = read_binding(be, hash, out, &seq);
  pthread_mutex_unlock(&be->lock);
  if (r == 1 && backend_sqlite_lapsed(be, out->renewed_ms, now))
    r = 0;
  return r;
}

/* The binding goes and its owner's sequence stays as a tombstone (the
 * owner's late requests are still fenced), in one transaction. */
static int unbind(struct backend_sqlite *be, const uint8_t *hash, const char *owner, uint64_t seq,
                  uint64_t now)
{
  sqlite3_stmt *stmt;
  int r = prepare_bound(be,
                        "INSERT INTO tombstones (terminal_hash, account_id, seq, released_at)"
                        " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (terminal_hash, account_id)"
                        " DO UPDATE SET seq = excluded.seq, released_at = excluded.released_at",
                        hash, NULL, &stmt);

  if (r < 0)
    return r;
  sqlite3_bind_text(stmt, 2, owner, -1, SQLITE_STATIC);
  sqlite3_bind_int64(stmt, 3, (sqlite3_int64)seq);
  sqlite3_bind_int64(stmt, 4, (sqlite3_int64)now);
  r = sqlite_errno(sqlite3_step(stmt));
  sqlite3_finalize(stmt);
  if (r == 0)
    r = prepare_bound(be, "DELETE FROM bindings WHERE terminal_hash = ?1", hash, NULL, &stmt);
  if (r == 0) {
    r = sqlite_errno(sqlite3_step(stmt));
    sqlite3_finalize(stmt);
  }
  return r;
}

static int sqlite_release(struct backend *base, const uint8_t *hash, uint64_t now,
                          struct backend_binding_info *out)
{
  struct backend_sqlite *be = sqlite_of(base);
  uint64_t seq = 0;
  int r, found;

  pthread_mutex_lock(&be->lock);
  r = run(be, "BEGIN IMMEDIATE");
  found = r == 0 ? read_binding(be, hash, out, &seq) : r;
  if (found == 1)
    r = unbind(be, hash, out->owner, seq, now);
  else if (found < 0)
    r = found;
  r = r == 0 ? run(be, "COMMIT") : r;
  if (!sqlite3_get_autocommit(be->db))
    run(be, "ROLLBACK");
  pthread_mutex_unlock(&be->lock);
  if (r < 0)
    return r;
  return found == 1 && !backend_sqlite_lapsed(be, out->renewed_ms, now);
}

static int sqlite_revoke(struct backend *base, const char *account, uint64_t now)
{
  struct backend_sqlite *be = sqlite_of(base);
  sqlite3_stmt *stmt;
  int r, changed = 0;

  pthread_mutex_lock(&be->lock);
  r = prepare_bound(be, "UPDATE accounts SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
                    NULL, account, &stmt);
  if (r == 0) {
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)now);
    r = sqlite_errno(sqlite3_step(stmt));
    changed = sqlite3_changes(be->db);
    sqlite3_finalize(stmt);
  }
  pthread_mutex_unlock(&be->lock);
  return r < 0 ? r : changed > 0;
}

static int count_rows(struct backend_sqlite *be, const char *sql, sqlite3_int64 param,
                      uint64_t *out)
{
  sqlite3_stmt *stmt;
  int r = prepare_bound(be, sql, NULL, NULL, &stmt), rc;

  if (r < 0)
    return r;
  if (sqlite3_bind_parameter_count(stmt) > 0)
    sqlite3_bind_int64(stmt, 1, param);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW)
    *out = (uint64_t)sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return rc == SQLITE_ROW ? 0 : sqlite_errno(rc);
}

static int sqlite_stats(struct backend *base, uint64_t now, struct backend_stats *out)
{
  struct backend_sqlite *be = sqlite_of(base);
  /* renewed within the TTL; with no TTL every binding counts */
  sqlite3_int64 since = be->ttl_ms && now > be->ttl_ms ? (sqlite3_int64)(now - be->ttl_ms) : 0;
  int r;

  pthread_mutex_lock(&be->lock);
  r = count_rows(be, "SELECT count(*) FROM bindings WHERE renewed_at >= ?1", since, &out->bindings);
  if (r == 0)
    r = count_rows(be, "SELECT count(*) FROM accounts WHERE revoked_at IS NULL", 0, &out->accounts);
  pthread_mutex_unlock(&be->lock);
  return r;
}

static int sqlite_create_account(struct backend *base, const char *name, const uint8_t *token_hash,
                                 uint64_t now)
{
  struct backend_sqlite *be = sqlite_of(base);
  sqlite3_stmt *stmt;
  int r;

  pthread_mutex_lock(&be->lock);
  r = prepare_bound(be, "INSERT INTO accounts (id, token_hash, created_at) VALUES (?1, ?2, ?3)",
                    NULL, name, &stmt);
  if (r == 0) {
    sqlite3_bind_blob(stmt, 2, token_hash, HASH_SHA256_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)now);
    r = sqlite_errno(sqlite3_step(stmt));
    sqlite3_finalize(stmt);
  }
  pthread_mutex_unlock(&be->lock);
  return r; /* -EEXIST: a constraint (the name or the token hash taken) */
}

/* Both accounts exist and are not revoked: 1, else 0. */
static int both_usable(struct backend_sqlite *be, const char *from, const char *to)
{
  sqlite3_stmt *stmt;
  uint64_t count = 0;
  int r = prepare_bound(be,
                        "SELECT count(*) FROM accounts WHERE id IN (?1, ?2)"
                        " AND revoked_at IS NULL",
                        NULL, from, &stmt);

  if (r < 0)
    return r;
  sqlite3_bind_text(stmt, 2, to, -1, SQLITE_STATIC);
  r = sqlite_errno(sqlite3_step(stmt));
  if (r == 0)
    count = (uint64_t)sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return r < 0 ? r : count == 2;
}

static int move_rows(struct backend_sqlite *be, const char *from, const char *to,
                     uint64_t *out_moved)
{
  sqlite3_stmt *stmt;
  int r = prepare_bound(be, "UPDATE bindings SET account_id = ?2, seq = 0 WHERE account_id = ?1",
                        NULL, from, &stmt);

  if (r < 0)
    return r;
  sqlite3_bind_text(stmt, 2, to, -1, SQLITE_STATIC);
  r = sqlite_errno(sqlite3_step(stmt));
  *out_moved = (uint64_t)sqlite3_changes(be->db);
  sqlite3_finalize(stmt);
  return r;
}

static int sqlite_move_bindings(struct backend *base, const char *from, const char *to,
                                uint64_t now, uint64_t *out_moved)
{
  struct backend_sqlite *be = sqlite_of(base);
  int r, usable;

  (void)now;
  *out_moved = 0;
  pthread_mutex_lock(&be->lock);
  r = run(be, "BEGIN IMMEDIATE");
  usable = r == 0 ? both_usable(be, from, to) : r;
  if (usable == 1)
    r = move_rows(be, from, to, out_moved);
  else
    r = usable < 0 ? usable : -ENOENT;
  r = r == 0 ? run(be, "COMMIT") : r;
  if (!sqlite3_get_autocommit(be->db))
    run(be, "ROLLBACK");
  pthread_mutex_unlock(&be->lock);
  return r;
}

/* SQLite's online backup, a few pages per step with the lock let go in
 * between, so requests go on; changes made through this connection
 * meanwhile reach the copy too (the backup API follows its own
 * connection's writes), so it is consistent as of its last step. */
static int copy_pages(struct backend_sqlite *be, sqlite3 *dest)
{
  sqlite3_backup *backup = sqlite3_backup_init(dest, "main", be->db, "main");
  int rc;

  if (!backup)
    return sqlite_errno(sqlite3_errcode(dest));
  do {
    pthread_mutex_lock(&be->lock);
    rc = sqlite3_backup_step(backup, BACKUP_PAGES_PER_STEP);
    pthread_mutex_unlock(&be->lock);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  pthread_mutex_lock(&be->lock);
  sqlite3_backup_finish(backup);
  pthread_mutex_unlock(&be->lock);
  return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

static int sqlite_backup(struct backend *base, const char *path, uint64_t *out_bytes)
{
  struct backend_sqlite *be = sqlite_of(base);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); /* never over a file */
  sqlite3 *dest = NULL;
  struct stat st;
  int r;

  if (fd < 0)
    return -errno;
  close(fd);
  r = sqlite_errno(sqlite3_open_v2(path, &dest, SQLITE_OPEN_READWRITE, NULL));
  if (r == 0)
    r = copy_pages(be, dest);
  sqlite3_close(dest);
  if (r == 0 && stat(path, &st) == 0)
    *out_bytes = (uint64_t)st.st_size;
  if (r < 0)
    unlink(path);
  return r;
}

const struct backend_admin_ops backend_sqlite_admin_ops = {
  .show = sqlite_show,
  .release = sqlite_release,
  .revoke = sqlite_revoke,
  .stats = sqlite_stats,
  .create_account = sqlite_create_account,
  .move_bindings = sqlite_move_bindings,
  .backup = sqlite_backup,
};
