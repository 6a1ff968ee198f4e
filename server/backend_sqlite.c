/* SQLite backend of the registry: one connection in WAL mode with
 * exclusive locking, used by every HTTP thread in turn under one mutex. All
 * writes go through it, so no thread ever sleeps in SQLite's busy handler;
 * and with the file locked once for the process's life, a read costs no
 * fcntl lock round trip (per-thread read connections spent a tenth of the
 * lookup path there). The price: no other process may open the database
 * while the registry runs. */
#include "account_id.h"
#include "backend.h"
#include "bound_filter.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION 2
#define KEY_CHECK_NAME "terminal-key-check"

static const char schema_v1[] =
  "CREATE TABLE accounts ("
  "  id TEXT PRIMARY KEY,"
  "  token_hash BLOB NOT NULL UNIQUE,"
  "  created_at INTEGER NOT NULL);"
  "CREATE TABLE bindings ("
  "  terminal_hash BLOB PRIMARY KEY,"
  "  account_id TEXT NOT NULL REFERENCES accounts(id),"
  "  bound_at INTEGER NOT NULL,"
  "  renewed_at INTEGER NOT NULL) WITHOUT ROWID;";

/* Version 2: the key's check value; times in milliseconds, as the
 * contract keeps them (version 1 kept seconds). */
static const char schema_v2[] =
  "CREATE TABLE meta ("
  "  name TEXT PRIMARY KEY,"
  "  value BLOB NOT NULL) WITHOUT ROWID;"
  "UPDATE accounts SET created_at = created_at * 1000;"
  "UPDATE bindings SET bound_at = bound_at * 1000, renewed_at = renewed_at * 1000;";

static const char *const schema_steps[SCHEMA_VERSION + 1] = {[1] = schema_v1, [2] = schema_v2};

struct backend_sqlite {
  struct backend base;
  char *path;
  pthread_mutex_t lock; /* guards the connection and every statement */
  sqlite3 *db;
  sqlite3_stmt *insert_binding, *renew_binding, *delete_binding, *insert_account;
  sqlite3_stmt *select_account_id, *select_binding, *select_account;
  struct bound_filter *bound; /* lookups of unbound terminals skip the lock */
};

static int errno_from_sqlite(int rc)
{
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_DONE:
  case SQLITE_ROW:
    return 0;
  case SQLITE_FULL:
    return -ENOSPC;
  case SQLITE_READONLY:
    return -EROFS;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    return -EBADMSG;
  case SQLITE_CANTOPEN:
    return -ENOENT;
  case SQLITE_PERM:
  case SQLITE_AUTH:
    return -EACCES;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return -EBUSY;
  case SQLITE_NOMEM:
    return -ENOMEM;
  case SQLITE_CONSTRAINT:
    return -EEXIST;
  default:
    return -EIO;
  }
}

static int open_connection(const char *path, int flags, sqlite3 **out_db)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);

  if (rc != SQLITE_OK) {
    log_err("cannot open database %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return errno_from_sqlite(rc);
  }
  sqlite3_extended_result_codes(db, 1);
  /* Only another process that holds the file (the exclusive lock refuses
   * it) makes SQLite wait; our own threads meet at the mutex. */
  sqlite3_busy_timeout(db, 5000);
  *out_db = db;
  return 0;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
  char *message = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &message);

  if (rc != SQLITE_OK) {
    log_err("database: %s", message ? message : sqlite3_errstr(rc));
    sqlite3_free(message);
  }
  return errno_from_sqlite(rc);
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out_stmt)
{
  int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out_stmt, NULL);

  if (rc != SQLITE_OK)
    log_err("database: cannot prepare statement: %s", sqlite3_errmsg(db));
  return errno_from_sqlite(rc);
}

static int read_user_version(sqlite3 *db, int *out_version)
{
  sqlite3_stmt *stmt;
  int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL);

  if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
    *out_version = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  return rc == SQLITE_ROW ? 0 : errno_from_sqlite(rc);
}

/* One schema step in a transaction of its own: a crash in the middle
 * leaves the version before, never half of this one. */
static int migrate_step(sqlite3 *db, int version)
{
  char set_version[48];
  int r;

  snprintf(set_version, sizeof set_version, "PRAGMA user_version = %d; COMMIT", version);
  r = exec_sql(db, "BEGIN IMMEDIATE");
  if (r == 0)
    r = exec_sql(db, schema_steps[version]);
  if (r == 0)
    r = exec_sql(db, set_version);
  if (r < 0)
    exec_sql(db, "ROLLBACK");
  return r;
}

/* Brings the schema to SCHEMA_VERSION, one step per version, each in its
 * own transaction. A newer file than this program knows is refused. */
static int migrate(sqlite3 *db, const char *path)
{
  int version = 0, r;

  r = read_user_version(db, &version);
  if (r < 0)
    return r;
  if (version > SCHEMA_VERSION) {
    log_err("database %s has schema version %d; this registry knows up to %d", path, version,
            SCHEMA_VERSION);
    return -EPROTO;
  }
  for (int next = version + 1; next <= SCHEMA_VERSION && r == 0; next++) {
    r = migrate_step(db, next);
    if (r == 0 && version > 0)
      log_info("database %s: schema upgraded to version %d", path, next);
  }
  return r;
}

/* A one-row query keyed by a hash whose first column is an account id:
 * 1 and out_account set, 0 when there is no row, or -errno. */
static int select_account_by_hash(sqlite3_stmt *stmt, const uint8_t hash[HASH_SHA256_LEN],
                                  char out_account[ACCOUNT_ID_MAX])
{
  int rc, found = 0;

  sqlite3_bind_blob(stmt, 1, hash, HASH_SHA256_LEN, SQLITE_STATIC);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    snprintf(out_account, ACCOUNT_ID_MAX, "%s", (const char *)sqlite3_column_text(stmt, 0));
    found = 1;
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : errno_from_sqlite(rc);
}

/* The owner of a terminal: 1 and out_account set, 0 when unbound. */
static int select_owner(struct backend_sqlite *be, const uint8_t *terminal_hash,
                        char out_account[ACCOUNT_ID_MAX])
{
  return select_account_by_hash(be->select_binding, terminal_hash, out_account);
}

static int sqlite_lookup(struct backend *base, const uint8_t *terminal_hash, const char *account,
                         enum binding_status *out_status)
{
  struct backend_sqlite *be = (struct backend_sqlite *)base;
  char owner[ACCOUNT_ID_MAX];
  int r;

  if (!bound_filter_may_contain(be->bound, terminal_hash)) {
    *out_status = BINDING_UNBOUND;
    return 0;
  }
  pthread_mutex_lock(&be->lock);
  r = select_owner(be, terminal_hash, owner);
  pthread_mutex_unlock(&be->lock);
  if (r < 0)
    return r;
  if (r == 0)
    *out_status = BINDING_UNBOUND;
  else
    *out_status = strcmp(owner, account) == 0 ? BINDING_BOUND_TO_YOU : BINDING_BOUND_TO_OTHER;
  return 0;
}

static int step_once(sqlite3_stmt *stmt)
{
  int rc = sqlite3_step(stmt);

  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : rc;
}

/* Check and write under the write lock: of racing claims exactly one
 * finds the terminal unbound. The primary key backs this up. */
static int sqlite_claim(struct backend *base, const uint8_t *terminal_hash, const char *account,
                        uint64_t now, enum claim_result *out_result)
{
  struct backend_sqlite *be = (struct backend_sqlite *)base;
  char owner[ACCOUNT_ID_MAX];
  sqlite3_stmt *stmt;
  int r, rc;

  pthread_mutex_lock(&be->lock);
  r = bound_filter_may_contain(be->bound, terminal_hash)
        ? select_owner(be, terminal_hash, owner)
        : 0;
  if (r == 1 && strcmp(owner, account) != 0) {
    *out_result = CLAIM_CONFLICT;
    r = 0;
    goto out;
  }
  if (r < 0)
    goto out;
  stmt = r == 1 ? be->renew_binding : be->insert_binding;
  sqlite3_bind_blob(stmt, 1, terminal_hash, HASH_SHA256_LEN, SQLITE_STATIC);
  sqlite3_bind_text(stmt, 2, account, -1, SQLITE_STATIC);
  sqlite3_bind_int64(stmt, 3, (sqlite3_int64)now);
  rc = step_once(stmt);
  *out_result = r == 1 ? CLAIM_RENEWED : CLAIM_BOUND_NOW;
  r = errno_from_sqlite(rc);
  if (r == 0 && *out_result == CLAIM_BOUND_NOW)
    bound_filter_add(be->bound, terminal_hash); /* before the 201 leaves */
out:
  pthread_mutex_unlock(&be->lock);
  return r;
}

static int sqlite_release(struct backend *base, const uint8_t *terminal_hash, const char *account,
                          enum release_result *out_result)
{
  struct backend_sqlite *be = (struct backend_sqlite *)base;
  char owner[ACCOUNT_ID_MAX];
  int r;

  pthread_mutex_lock(&be->lock);
  r = select_owner(be, terminal_hash, owner);
  if (r == 0) {
    *out_result = RELEASE_NOT_BOUND;
  } else if (r == 1 && strcmp(owner, account) != 0) {
    *out_result = RELEASE_NOT_OWNER;
    r = 0;
  } else if (r == 1) {
    sqlite3_bind_blob(be->delete_binding, 1, terminal_hash, HASH_SHA256_LEN, SQLITE_STATIC);
    r = errno_from_sqlite(step_once(be->delete_binding));
    *out_result = RELEASE_DONE;
  }
  pthread_mutex_unlock(&be->lock);
  return r;
}

/* 1 when an account with this id exists, 0 when not; under write_lock. */
static int account_id_taken(struct backend_sqlite *be, const char *account)
{
  sqlite3_stmt *stmt = be->select_account_id;
  int rc;

  sqlite3_bind_text(stmt, 1, account, -1, SQLITE_STATIC);
  rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (rc == SQLITE_ROW)
    return 1;
  return rc == SQLITE_DONE ? 0 : errno_from_sqlite(rc);
}

/* Seed [0044]: generate an id, check that it is new, regenerate until it
 * is. The write lock makes check and insert one step. */
static int sqlite_create_account(struct backend *base, const uint8_t *token_hash, uint64_t now,
                                 char *out_account)
{
  struct backend_sqlite *be = (struct backend_sqlite *)base;
  int r = 1;

  pthread_mutex_lock(&be->lock);
  for (int attempt = 0; attempt < 16 && r == 1; attempt++) {
    r = account_id_generate(out_account);
    if (r == 0)
      r = account_id_taken(be, out_account);
    if (r == 1)
      log_debug("shadow account id collision; generating another");
  }
  if (r == 1)
    r = -EEXIST;
  if (r == 0) {
    sqlite3_bind_text(be->insert_account, 1, out_account, -1, SQLITE_STATIC);
    sqlite3_bind_blob(be->insert_account, 2, token_hash, HASH_SHA256_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(be->insert_account, 3, (sqlite3_int64)now);
    r = errno_from_sqlite(step_once(be->insert_account)); /* -EEXIST: token hash taken */
  }
  pthread_mutex_unlock(&be->lock);
  return r;
}

static int sqlite_find_account(struct backend *base, const uint8_t *token_hash, char *out_account)
{
  struct backend_sqlite *be = (struct backend_sqlite *)base;
  int r;

  pthread_mutex_lock(&be->lock);
  r = select_account_by_hash(be->select_account, token_hash, out_account);
  pthread_mutex_unlock(&be->lock);
  return r;
}

/* A start-up query of one row and one column: 1 and the statement left
 * on its row for the caller to read, 0 when there is none, or -errno.
 * The caller finalizes *out_stmt in every case. */
static int query_row(sqlite3 *db, const char *sql, sqlite3_stmt **out_stmt)
{
  int rc = sqlite3_prepare_v2(db, sql, -1, out_stmt, NULL);

  if (rc == SQLITE_OK)
    rc = sqlite3_step(*out_stmt);
  if (rc == SQLITE_ROW)
    return 1;
  return rc == SQLITE_DONE ? 0 : errno_from_sqlite(rc);
}

static int read_key_check_locked(struct backend_sqlite *be, uint8_t out_check[HASH_SHA256_LEN])
{
  sqlite3_stmt *stmt = NULL;
  int r = query_row(be->db, "SELECT value FROM meta WHERE name = '" KEY_CHECK_NAME "'", &stmt);

  if (r == 1 && sqlite3_column_bytes(stmt, 0) == HASH_SHA256_LEN)
    memcpy(out_check, sqlite3_column_blob(stmt, 0), HASH_SHA256_LEN);
  else if (r == 1)
    r = -EBADMSG;
  sqlite3_finalize(stmt);
  return r;
}

static int sqlite_read_key_check(struct backend *base, uint8_t *out_check, bool *out_keyed)
{
  struct backend_sqlite *be = (struct backend_sqlite *)base;
  sqlite3_stmt *stmt = NULL;
  int r;

  pthread_mutex_lock(&be->lock);
  r = query_row(be->db, "SELECT EXISTS (SELECT 1 FROM bindings)", &stmt);
  if (r == 1)
    *out_keyed = sqlite3_column_int(stmt, 0) != 0;
  sqlite3_finalize(stmt);
  if (r >= 0)
    r = read_key_check_locked(be, out_check);
  pthread_mutex_unlock(&be->lock);
  return r;
}

static int sqlite_store_key_check(struct backend *base, const uint8_t *check)
{
  struct backend_sqlite *be = (struct backend_sqlite *)base;
  uint8_t stored[HASH_SHA256_LEN];
  sqlite3_stmt *stmt = NULL;
  int r, rc;

  pthread_mutex_lock(&be->lock);
  rc = sqlite3_prepare_v2(be->db,
                          "INSERT INTO meta (name, value) VALUES ('" KEY_CHECK_NAME "', ?1)"
                          " ON CONFLICT (name) DO NOTHING",
                          -1, &stmt, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_blob(stmt, 1, check, HASH_SHA256_LEN, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  r = rc == SQLITE_DONE ? read_key_check_locked(be, stored) : errno_from_sqlite(rc);
  if (r == 0)
    r = -EIO; /* stored, yet not there */
  else if (r == 1)
    r = hash_equal_ct(stored, check, HASH_SHA256_LEN) ? 0 : -EKEYREJECTED;
  pthread_mutex_unlock(&be->lock);
  return r;
}

static void sqlite_close(struct backend *base)
{
  struct backend_sqlite *be = (struct backend_sqlite *)base;

  sqlite3_finalize(be->select_binding);
  sqlite3_finalize(be->select_account);
  sqlite3_finalize(be->insert_binding);
  sqlite3_finalize(be->renew_binding);
  sqlite3_finalize(be->delete_binding);
  sqlite3_finalize(be->insert_account);
  sqlite3_finalize(be->select_account_id);
  if (be->db)
    sqlite3_close(be->db);
  pthread_mutex_destroy(&be->lock);
  bound_filter_free(be->bound);
  free(be->path);
  free(be);
}

static int prepare_connection(struct backend_sqlite *be)
{
  int r;

  /* synchronous=NORMAL in WAL mode: a commit survives a crash of the
   * process; only a power loss can drop the last transactions. The one
   * connection owns the file, so it may as well cache 32 MiB of it (the
   * default 2 MiB holds the index of a few ten thousand bindings). */
  r = exec_sql(be->db, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
                       "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                       "PRAGMA cache_size=-32768");
  if (r == 0)
    r = migrate(be->db, be->path);
  if (r == 0)
    r = prepare(be->db,
                "INSERT INTO bindings (terminal_hash, account_id, bound_at, renewed_at)"
                " VALUES (?1, ?2, ?3, ?3)",
                &be->insert_binding);
  if (r == 0)
    r = prepare(be->db,
                "UPDATE bindings SET renewed_at = ?3 WHERE terminal_hash = ?1 AND account_id = ?2",
                &be->renew_binding);
  if (r == 0)
    r = prepare(be->db, "DELETE FROM bindings WHERE terminal_hash = ?1", &be->delete_binding);
  if (r == 0)
    r = prepare(be->db, "INSERT INTO accounts (id, token_hash, created_at) VALUES (?1, ?2, ?3)",
                &be->insert_account);
  if (r == 0)
    r = prepare(be->db, "SELECT 1 FROM accounts WHERE id = ?1", &be->select_account_id);
  if (r == 0)
    r = prepare(be->db, "SELECT account_id FROM bindings WHERE terminal_hash = ?1",
                &be->select_binding);
  if (r == 0)
    r = prepare(be->db, "SELECT id FROM accounts WHERE token_hash = ?1", &be->select_account);
  return r;
}

/* Every bound terminal into the filter, sized for the table as it is and
 * as much again (it grows by itself past that). */
static int load_bound_filter(struct backend_sqlite *be)
{
  sqlite3_stmt *count, *scan;
  sqlite3_int64 rows = 0;
  int r, rc;

  r = prepare(be->db, "SELECT count(*) FROM bindings", &count);
  if (r < 0)
    return r;
  if (sqlite3_step(count) == SQLITE_ROW)
    rows = sqlite3_column_int64(count, 0);
  sqlite3_finalize(count);
  be->bound = bound_filter_new((size_t)rows * 2 + 100000);
  r = prepare(be->db, "SELECT terminal_hash FROM bindings", &scan);
  if (r < 0)
    return r;
  while ((rc = sqlite3_step(scan)) == SQLITE_ROW)
    if (sqlite3_column_bytes(scan, 0) == HASH_SHA256_LEN)
      bound_filter_add(be->bound, sqlite3_column_blob(scan, 0));
  sqlite3_finalize(scan);
  return rc == SQLITE_DONE ? 0 : errno_from_sqlite(rc);
}

static int sqlite_open(const char *path, struct backend **out_backend)
{
  struct backend_sqlite *be = xcalloc(1, sizeof *be);
  int r;

  be->base.ops = &backend_sqlite_ops;
  be->path = xstrdup(path);
  pthread_mutex_init(&be->lock, NULL);
  r = open_connection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &be->db);
  if (r == 0)
    r = prepare_connection(be);
  if (r == 0)
    r = load_bound_filter(be);
  if (r < 0) {
    sqlite_close(&be->base);
    return r;
  }
  *out_backend = &be->base;
  return 0;
}

const struct backend_ops backend_sqlite_ops = {
  .scheme = "sqlite",
  .open = sqlite_open,
  .close = sqlite_close,
  .lookup = sqlite_lookup,
  .claim = sqlite_claim,
  .release = sqlite_release,
  .create_account = sqlite_create_account,
  .find_account = sqlite_find_account,
  .read_key_check = sqlite_read_key_check,
  .store_key_check = sqlite_store_key_check,
};
