/* SQLite backend of the registry: one connection in WAL mode with
 * exclusive locking, used by every HTTP thread in turn under one mutex. All
 * writes go through it, so no thread ever sleeps in SQLite's busy handler;
 * and with the file locked once for the process's life, a read costs no
 * fcntl lock round trip (per-thread read connections spent a tenth of the
 * lookup path there). The price: no other process may open the database
 * while the registry runs. */
#include "account_id.h"
#include "backend.h"
#include "backend_admin.h"
#include "backend_sqlite.h"
#include "bound_filter.h"
#include "fence.h"
#include "log.h"
#include "sqlite_errno.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCHEMA_VERSION 3
#define KEY_CHECK_NAME "terminal-key-check"
#define TOMBSTONE_KEEP_MS (7ULL * 24 * 3600 * 1000) /* the contract: at least a week */
#define PURGE_EVERY_MS (3600ULL * 1000)

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

/* Version 2: the key's check value; fencing (each binding's sequence, and
 * a tombstone per terminal and account that released it); times in
 * milliseconds, as the contract keeps them (version 1 kept seconds).
 * Sequences are stored as the signed 64-bit integer of the same bits. */
static const char schema_v2[] =
  "CREATE TABLE meta ("
  "  name TEXT PRIMARY KEY,"
  "  value BLOB NOT NULL) WITHOUT ROWID;"
  "UPDATE accounts SET created_at = created_at * 1000;"
  "UPDATE bindings SET bound_at = bound_at * 1000, renewed_at = renewed_at * 1000;"
  "ALTER TABLE bindings ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
  "CREATE TABLE tombstones ("
  "  terminal_hash BLOB NOT NULL,"
  "  account_id TEXT NOT NULL REFERENCES accounts(id),"
  "  seq INTEGER NOT NULL,"
  "  released_at INTEGER NOT NULL,"
  "  PRIMARY KEY (terminal_hash, account_id)) WITHOUT ROWID;"
  "CREATE INDEX tombstones_released_at ON tombstones (released_at);";

/* Version 3: revocation (phonebind-registry admin revoke): a revoked
 * account's tokens are refused, its bindings stay until released or
 * lapsed. */
static const char schema_v3[] = "ALTER TABLE accounts ADD COLUMN revoked_at INTEGER;";

static const char *const schema_steps[SCHEMA_VERSION + 1] = {
  [1] = schema_v1, [2] = schema_v2, [3] = schema_v3};

/* What the fence needs to know of a terminal, for one account. */
struct fence_state {
  enum fence_owner owner;
  uint64_t stored;    /* our binding's seq, else our tombstone's, else 0 */
  bool has_tombstone; /* ours, for this terminal */
};

static sqlite3_int64 seq_to_sql(uint64_t seq)
{
  sqlite3_int64 value;

  memcpy(&value, &seq, sizeof value);
  return value;
}

static uint64_t seq_from_sql(sqlite3_int64 value)
{
  uint64_t seq;

  memcpy(&seq, &value, sizeof seq);
  return seq;
}

static uint64_t wall_clock_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int open_connection(const char *path, int flags, sqlite3 **out_db)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);

  if (rc != SQLITE_OK) {
    log_err("cannot open database %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return sqlite_errno(rc);
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
  return sqlite_errno(rc);
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out_stmt)
{
  int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out_stmt, NULL);

  if (rc != SQLITE_OK)
    log_err("database: cannot prepare statement: %s", sqlite3_errmsg(db));
  return sqlite_errno(rc);
}

static int read_user_version(sqlite3 *db, int *out_version)
{
  sqlite3_stmt *stmt;
  int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL);

  if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
    *out_version = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  return rc == SQLITE_ROW ? 0 : sqlite_errno(rc);
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
 * 1 and out_account set (and *out_seq from the second column, when asked),
 * 0 when there is no row, or -errno. */
static int select_account_by_hash(sqlite3_stmt *stmt, const uint8_t hash[HASH_SHA256_LEN],
                                  char out_account[ACCOUNT_ID_MAX], uint64_t *out_seq)
{
  int rc, found = 0;

  sqlite3_bind_blob(stmt, 1, hash, HASH_SHA256_LEN, SQLITE_STATIC);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    snprintf(out_account, ACCOUNT_ID_MAX, "%s", (const char *)sqlite3_column_text(stmt, 0));
    if (out_seq)
      *out_seq = seq_from_sql(sqlite3_column_int64(stmt, 1));
    found = 1;
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : sqlite_errno(rc);
}

/* The binding of a terminal, lapsed or not: 1 and *out_row, 0 when there
 * is none. */
static int select_owner(struct backend_sqlite *be, const uint8_t *terminal_hash,
                        struct owner_row *out_row)
{
  sqlite3_stmt *stmt = be->select_binding;
  int rc;

  sqlite3_bind_blob(stmt, 1, terminal_hash, HASH_SHA256_LEN, SQLITE_STATIC);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    snprintf(out_row->account, ACCOUNT_ID_MAX, "%s", (const char *)sqlite3_column_text(stmt, 0));
    out_row->seq = seq_from_sql(sqlite3_column_int64(stmt, 1));
    out_row->renewed_at = (uint64_t)sqlite3_column_int64(stmt, 2);
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (rc == SQLITE_ROW)
    return 1;
  return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

static int lookup_now(struct backend_sqlite *be, const uint8_t *terminal_hash, const char *account,
                      enum binding_status *out_status)
{
  struct owner_row owner;
  int r;

  if (!bound_filter_may_contain(be->bound, terminal_hash)) {
    *out_status = BINDING_UNBOUND;
    return 0;
  }
  pthread_mutex_lock(&be->lock);
  r = select_owner(be, terminal_hash, &owner);
  pthread_mutex_unlock(&be->lock);
  if (r < 0)
    return r;
  if (r == 0 || backend_sqlite_lapsed(be, owner.renewed_at, wall_clock_ms()))
    *out_status = BINDING_UNBOUND;
  else
    *out_status =
      strcmp(owner.account, account) == 0 ? BINDING_BOUND_TO_YOU : BINDING_BOUND_TO_OTHER;
  return 0;
}

static int step_once(sqlite3_stmt *stmt)
{
  int rc = sqlite3_step(stmt);

  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : rc;
}

/* Runs a statement of the convention ?1 terminal hash, ?2 account, ?3 now,
 * ?4 seq; it may use the first few of them only. */
static int run_row(sqlite3_stmt *stmt, const uint8_t *terminal_hash, const char *account,
                   uint64_t now, uint64_t seq)
{
  int params = sqlite3_bind_parameter_count(stmt);

  sqlite3_bind_blob(stmt, 1, terminal_hash, HASH_SHA256_LEN, SQLITE_STATIC);
  if (params >= 2)
    sqlite3_bind_text(stmt, 2, account, -1, SQLITE_STATIC);
  if (params >= 3)
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)now);
  if (params >= 4)
    sqlite3_bind_int64(stmt, 4, seq_to_sql(seq));
  return sqlite_errno(step_once(stmt));
}

/* Our tombstone's seq for the terminal: 1 and *out_seq, or 0 when none. */
static int select_tombstone(struct backend_sqlite *be, const uint8_t *terminal_hash,
                            const char *account, uint64_t *out_seq)
{
  sqlite3_stmt *stmt = be->select_tombstone;
  int rc;

  sqlite3_bind_blob(stmt, 1, terminal_hash, HASH_SHA256_LEN, SQLITE_STATIC);
  sqlite3_bind_text(stmt, 2, account, -1, SQLITE_STATIC);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW)
    *out_seq = seq_from_sql(sqlite3_column_int64(stmt, 0));
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (rc == SQLITE_ROW)
    return 1;
  return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

/* Tombstones older than a week go, at start and at most once an hour
 * afterwards: one indexed range delete. A failure costs nothing but
 * space, so it is logged and the request goes on. */
static void purge_old_tombstones(struct backend_sqlite *be, uint64_t now)
{
  int r;

  if (now < be->purged_at + PURGE_EVERY_MS)
    return;
  be->purged_at = now;
  if (now <= TOMBSTONE_KEEP_MS)
    return;
  sqlite3_bind_int64(be->purge_tombstones, 1, (sqlite3_int64)(now - TOMBSTONE_KEEP_MS));
  r = sqlite_errno(step_once(be->purge_tombstones));
  if (r < 0)
    log_warn("database: cannot purge old tombstones: %s", strerror(-r));
  else if (sqlite3_changes(be->db) > 0)
    log_debug("purged %d tombstones older than a week", sqlite3_changes(be->db));
}

/* Under the lock: whose the terminal is and the sequence stored for this
 * account. The filter spares a read of a terminal never bound; the
 * tombstone is read whenever the binding is not ours. */
static int read_fence_state(struct backend_sqlite *be, const uint8_t *terminal_hash,
                            const char *account, struct fence_state *out_state)
{
  struct owner_row owner;
  int r = bound_filter_may_contain(be->bound, terminal_hash)
            ? select_owner(be, terminal_hash, &owner)
            : 0;

  *out_state = (struct fence_state){.owner = FENCE_UNBOUND};
  if (r < 0)
    return r;
  if (r == 1 && strcmp(owner.account, account) == 0) {
    out_state->owner = FENCE_OURS;
    out_state->stored = owner.seq;
    return 0;
  }
  out_state->owner = r == 1 ? FENCE_OTHERS : FENCE_UNBOUND;
  r = select_tombstone(be, terminal_hash, account, &out_state->stored);
  out_state->has_tombstone = r == 1;
  return r < 0 ? r : 0;
}

/* The one or two statements a fenced write needs. */
static int write_rows(struct backend_sqlite *be, const uint8_t *terminal_hash, const char *account,
                      uint64_t now, const struct fence_write *w, bool has_tombstone)
{
  int r = 0;

  switch (w->op) {
  case FENCE_WRITE_NOTHING:
    break;
  case FENCE_WRITE_BIND:
    r = run_row(be->insert_binding, terminal_hash, account, now, w->seq);
    if (r == 0 && has_tombstone)
      r = run_row(be->delete_tombstone, terminal_hash, account, now, w->seq);
    break;
  case FENCE_WRITE_RENEW:
    r = run_row(be->renew_binding, terminal_hash, account, now, w->seq);
    break;
  case FENCE_WRITE_UNBIND:
    r = run_row(be->delete_binding, terminal_hash, account, now, w->seq);
    if (r == 0)
      r = run_row(be->upsert_tombstone, terminal_hash, account, now, w->seq);
    break;
  case FENCE_WRITE_TOMBSTONE:
    r = run_row(be->upsert_tombstone, terminal_hash, account, now, w->seq);
    break;
  }
  return r;
}

/* Two statements are one transaction: a binding never goes without its
 * tombstone taking its sequence, nor comes without the tombstone going. */
static int apply_fence_write(struct backend_sqlite *be, const uint8_t *terminal_hash,
                             const char *account, uint64_t now, const struct fence_write *w,
                             bool has_tombstone)
{
  bool two = w->op == FENCE_WRITE_UNBIND || (w->op == FENCE_WRITE_BIND && has_tombstone);
  int r = two ? sqlite_errno(step_once(be->begin)) : 0;

  if (r == 0)
    r = write_rows(be, terminal_hash, account, now, w, has_tombstone);
  if (two && r == 0)
    r = sqlite_errno(step_once(be->commit));
  if (two && !sqlite3_get_autocommit(be->db))
    step_once(be->rollback); /* a failed statement or commit */
  if (r == 0 && w->op == FENCE_WRITE_BIND)
    bound_filter_add(be->bound, terminal_hash); /* before the 201 leaves */
  return r;
}

/* Under the lock: a lapsed binding becomes its owner's tombstone, with
 * its sequence (the fence still holds for that owner's late requests),
 * and the terminal is unbound for the fence that follows. One
 * transaction of its own. */
static int settle_lapsed(struct backend_sqlite *be, const uint8_t *terminal_hash, uint64_t now)
{
  struct owner_row owner;
  int r = be->ttl_ms && bound_filter_may_contain(be->bound, terminal_hash)
            ? select_owner(be, terminal_hash, &owner)
            : 0;

  if (r <= 0 || !backend_sqlite_lapsed(be, owner.renewed_at, now))
    return r < 0 ? r : 0;
  r = sqlite_errno(step_once(be->begin));
  if (r == 0)
    r = run_row(be->upsert_tombstone, terminal_hash, owner.account, now, owner.seq);
  if (r == 0)
    r = run_row(be->delete_binding, terminal_hash, NULL, now, 0);
  if (r == 0)
    r = sqlite_errno(step_once(be->commit));
  if (!sqlite3_get_autocommit(be->db))
    step_once(be->rollback);
  if (r == 0)
    log_debug("a binding lapsed (not renewed for %llu ms)",
              (unsigned long long)(now - owner.renewed_at));
  return r;
}

/* Fence check and write under one lock: of racing requests only those the
 * fence lets through write, in the order they take the lock; and of
 * racing claims exactly one finds the terminal unbound (the primary key
 * backs this up). Returns the answer of fence_claim() or fence_release(). */
static int fenced_request(struct backend_sqlite *be, bool claim, const uint8_t *terminal_hash,
                          const char *account, uint64_t seq, uint64_t now, int *out_answer,
                          uint64_t *out_seq)
{
  struct fence_state state;
  struct fence_write w;
  int r;

  pthread_mutex_lock(&be->lock);
  purge_old_tombstones(be, now);
  r = settle_lapsed(be, terminal_hash, now);
  if (r == 0)
    r = read_fence_state(be, terminal_hash, account, &state);
  if (r == 0) {
    *out_answer = claim ? (int)fence_claim(state.owner, state.stored, seq, &w)
                        : (int)fence_release(state.owner, state.stored, seq, &w);
    r = apply_fence_write(be, terminal_hash, account, now, &w, state.has_tombstone);
  }
  pthread_mutex_unlock(&be->lock);
  if (r == 0 && out_seq)
    *out_seq = state.stored;
  return r;
}

/* SQLite answers every request before it returns: the call's loop is
 * not needed. */
static void sqlite_lookup(struct backend *base, const struct backend_call *call,
                          const uint8_t *terminal_hash, const char *account)
{
  struct backend_result result = {0};

  result.error = lookup_now((struct backend_sqlite *)base, terminal_hash, account, &result.status);
  backend_answer(call, &result);
}

static void sqlite_claim(struct backend *base, const struct backend_call *call,
                         const uint8_t *terminal_hash, const char *account, uint64_t seq,
                         uint64_t now)
{
  struct backend_result result = {0};
  int answer = 0;

  result.error = fenced_request((struct backend_sqlite *)base, true, terminal_hash, account, seq,
                                now, &answer, &result.seq);
  result.claim = (enum claim_result)answer;
  backend_answer(call, &result);
}

static void sqlite_release(struct backend *base, const struct backend_call *call,
                           const uint8_t *terminal_hash, const char *account, uint64_t seq,
                           uint64_t now)
{
  struct backend_result result = {0};
  int answer = 0;

  result.error = fenced_request((struct backend_sqlite *)base, false, terminal_hash, account, seq,
                                now, &answer, &result.seq);
  result.release = (enum release_result)answer;
  backend_answer(call, &result);
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
  return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
}

/* Seed [0044]: generate an id, check that it is new, regenerate until it
 * is. The write lock makes check and insert one step. */
static int create_account_now(struct backend_sqlite *be, const uint8_t *token_hash, uint64_t now,
                              char *out_account)
{
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
    r = sqlite_errno(step_once(be->insert_account)); /* -EEXIST: token hash taken */
  }
  pthread_mutex_unlock(&be->lock);
  return r;
}

static void sqlite_create_account(struct backend *base, const struct backend_call *call,
                                  const uint8_t *token_hash, uint64_t now)
{
  struct backend_result result = {0};

  result.error = create_account_now((struct backend_sqlite *)base, token_hash, now, result.account);
  backend_answer(call, &result);
}

static void sqlite_find_account(struct backend *base, const struct backend_call *call,
                                const uint8_t *token_hash)
{
  struct backend_sqlite *be = (struct backend_sqlite *)base;
  struct backend_result result = {0};
  int r;

  pthread_mutex_lock(&be->lock);
  r = select_account_by_hash(be->select_account, token_hash, result.account, NULL);
  pthread_mutex_unlock(&be->lock);
  result.error = r < 0 ? r : 0;
  result.found = r == 1;
  backend_answer(call, &result);
}

/* The file is open and locked for the process's life: nothing to check. */
static void sqlite_health(struct backend *base, const struct backend_call *call)
{
  (void)base;
  backend_answer_error(call, 0);
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
  return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
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
  r = query_row(
    be->db, "SELECT EXISTS (SELECT 1 FROM bindings) OR EXISTS (SELECT 1 FROM tombstones)", &stmt);
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
                          "INSERT INTO meta (name, value) VALUES (?2, ?1)"
                          " ON CONFLICT (name) DO NOTHING",
                          -1, &stmt, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_blob(stmt, 1, check, HASH_SHA256_LEN, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, KEY_CHECK_NAME, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  r = rc == SQLITE_DONE ? read_key_check_locked(be, stored) : sqlite_errno(rc);
  if (r == 0)
    r = -EIO; /* stored, yet not there */
  else if (r == 1)
    r = hash_equal_ct(stored, check, HASH_SHA256_LEN) ? 0 : -EKEYREJECTED;
  pthread_mutex_unlock(&be->lock);
  return r;
}

/* Every prepared statement: where it lives and its text. Parameters of
 * binding and tombstone statements follow run_row()'s convention. */
static const struct {
  size_t offset;
  const char *sql;
} statements[] = {
/* clang-format off */
#define STATEMENT(field, text) {offsetof(struct backend_sqlite, field), text}
  /* clang-format on */
  STATEMENT(insert_binding,
            "INSERT INTO bindings (terminal_hash, account_id, bound_at, renewed_at,"
            " seq) VALUES (?1, ?2, ?3, ?3, ?4)"),
  STATEMENT(renew_binding,
            "UPDATE bindings SET renewed_at = ?3, seq = ?4"
            " WHERE terminal_hash = ?1 AND account_id = ?2"),
  STATEMENT(delete_binding, "DELETE FROM bindings WHERE terminal_hash = ?1"),
  STATEMENT(select_binding,
            "SELECT account_id, seq, renewed_at FROM bindings WHERE terminal_hash = ?1"),
  STATEMENT(insert_account,
            "INSERT INTO accounts (id, token_hash, created_at) VALUES (?1, ?2, ?3)"),
  STATEMENT(select_account_id, "SELECT 1 FROM accounts WHERE id = ?1"),
  STATEMENT(select_account, "SELECT id FROM accounts WHERE token_hash = ?1 AND revoked_at IS NULL"),
  STATEMENT(select_tombstone,
            "SELECT seq FROM tombstones WHERE terminal_hash = ?1 AND account_id = ?2"),
  STATEMENT(upsert_tombstone,
            "INSERT INTO tombstones (terminal_hash, account_id, seq, released_at)"
            " VALUES (?1, ?2, ?4, ?3) ON CONFLICT (terminal_hash, account_id)"
            " DO UPDATE SET seq = excluded.seq, released_at = excluded.released_at"),
  STATEMENT(delete_tombstone,
            "DELETE FROM tombstones WHERE terminal_hash = ?1 AND account_id = ?2"),
  STATEMENT(purge_tombstones, "DELETE FROM tombstones WHERE released_at < ?1"),
  STATEMENT(begin, "BEGIN IMMEDIATE"),
  STATEMENT(commit, "COMMIT"),
  STATEMENT(rollback, "ROLLBACK"),
#undef STATEMENT
};

static sqlite3_stmt **statement_slot(struct backend_sqlite *be, size_t i)
{
  return (sqlite3_stmt **)(void *)((char *)be + statements[i].offset);
}

static void sqlite_close(struct backend *base)
{
  struct backend_sqlite *be = (struct backend_sqlite *)base;

  for (size_t i = 0; i < sizeof statements / sizeof *statements; i++)
    sqlite3_finalize(*statement_slot(be, i));
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
  r = exec_sql(be->db,
               "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL;"
               "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
               "PRAGMA cache_size=-32768");
  if (r == 0)
    r = migrate(be->db, be->path);
  for (size_t i = 0; i < sizeof statements / sizeof *statements && r == 0; i++)
    r = prepare(be->db, statements[i].sql, statement_slot(be, i));
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
  return rc == SQLITE_DONE ? 0 : sqlite_errno(rc);
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
  if (r == 0)
    purge_old_tombstones(be, wall_clock_ms());
  if (r < 0) {
    sqlite_close(&be->base);
    return r;
  }
  *out_backend = &be->base;
  return 0;
}

static void sqlite_set_binding_ttl(struct backend *base, uint64_t ttl_ms)
{
  ((struct backend_sqlite *)base)->ttl_ms = ttl_ms;
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
  .health = sqlite_health,
  .set_binding_ttl = sqlite_set_binding_ttl,
  .admin = &backend_sqlite_admin_ops,
  .read_key_check = sqlite_read_key_check,
  .store_key_check = sqlite_store_key_check,
};
