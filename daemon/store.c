/* The local store; see store.h. A versioned schema migrated step by step,
 * keyed hashes instead of identifiers, and SQLite errors turned into errno
 * values the daemon can report ("read-only file system", "no space"). */
#include "store.h"

#include "hash.h"
#include "log.h"
#include "pctenc.h"
#include "seal.h"
#include "sqlite_errno.h"
#include "xalloc.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#define STORE_KEY_MAX 64

/* migrations[v] brings a store of version v to v + 1. */
static const char *const migrations[] = {
  "CREATE TABLE terminals ("
  "  id_hash BLOB PRIMARY KEY,"
  "  vendor TEXT NOT NULL,"
  "  model TEXT NOT NULL,"
  "  serial TEXT NOT NULL,"
  "  first_seen INTEGER NOT NULL,"
  "  last_seen INTEGER NOT NULL,"
  "  bound_since INTEGER NOT NULL) WITHOUT ROWID;",
  /* 2: counters (the Phonebind-Seq reservation) and pending releases,
   * whose identifier is sealed: the DELETE must be sent again after a
   * restart, and an IMEI is never kept in the clear */
  "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
  "CREATE TABLE releases ("
  "  id_hash BLOB PRIMARY KEY,"
  "  sealed_id BLOB NOT NULL,"
  "  account TEXT NOT NULL,"
  "  since INTEGER NOT NULL) WITHOUT ROWID;",
};
#define STORE_SCHEMA_VERSION ((int)(sizeof migrations / sizeof *migrations))

struct store {
  sqlite3 *db;
  uint8_t raw_key[STORE_KEY_MAX]; /* seals pending releases */
  size_t raw_key_len;
  struct hash_hmac_key *key; /* turns identifiers into the rows' keys */
  sqlite3_stmt *select, *upsert, *touch, *delete, *delete_all;
  sqlite3_stmt *counter_get, *counter_set;
  sqlite3_stmt *release_add, *release_drop, *release_list;
};

static int exec(struct store *store, const char *sql)
{
  return sqlite_errno(sqlite3_exec(store->db, sql, NULL, NULL, NULL));
}

static int user_version(struct store *store, int *out_version)
{
  sqlite3_stmt *stmt;
  int rc = sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &stmt, NULL);

  if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
    *out_version = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  return rc == SQLITE_ROW ? 0 : sqlite_errno(rc);
}

/* One migration per schema version, each its own transaction. */
static int migrate(struct store *store)
{
  int version = 0, r = user_version(store, &version);

  if (r < 0)
    return r;
  if (version > STORE_SCHEMA_VERSION)
    return -EBADMSG; /* written by a newer phonebindd: do not touch */
  for (; version < STORE_SCHEMA_VERSION && r == 0; version++) {
    _cleanup_free_ char *bump = xasprintf("PRAGMA user_version = %d; COMMIT", version + 1);
    r = exec(store, "BEGIN IMMEDIATE");
    if (r == 0)
      r = exec(store, migrations[version]);
    if (r == 0)
      r = exec(store, bump);
    if (r < 0)
      exec(store, "ROLLBACK");
  }
  return r;
}

static int prepare(struct store *store, const char *sql, sqlite3_stmt **out_stmt)
{
  return sqlite_errno(
    sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out_stmt, NULL));
}

static int prepare_all(struct store *store)
{
  int r = prepare(store,
                  "SELECT vendor, model, serial, first_seen, last_seen, bound_since"
                  " FROM terminals WHERE id_hash = ?1",
                  &store->select);

  if (r == 0)
    r = prepare(store,
                "INSERT INTO terminals (id_hash, vendor, model, serial, first_seen, last_seen,"
                " bound_since) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id_hash) DO UPDATE"
                " SET vendor = excluded.vendor, model = excluded.model, serial = excluded.serial,"
                " last_seen = excluded.last_seen",
                &store->upsert);
  if (r == 0)
    r = prepare(store, "UPDATE terminals SET last_seen = ?2 WHERE id_hash = ?1", &store->touch);
  if (r == 0)
    r = prepare(store, "DELETE FROM terminals WHERE id_hash = ?1", &store->delete);
  if (r == 0)
    r = prepare(store, "DELETE FROM terminals", &store->delete_all);
  if (r == 0)
    r = prepare(store, "SELECT value FROM counters WHERE name = ?1", &store->counter_get);
  if (r == 0)
    r = prepare(store, "INSERT OR REPLACE INTO counters (name, value) VALUES (?1, ?2)",
                &store->counter_set);
  if (r == 0)
    r = prepare(store,
                "INSERT OR REPLACE INTO releases (id_hash, sealed_id, account, since)"
                " VALUES (?1, ?2, ?3, ?4)",
                &store->release_add);
  if (r == 0)
    r = prepare(store, "DELETE FROM releases WHERE id_hash = ?1", &store->release_drop);
  if (r == 0)
    r = prepare(store, "SELECT sealed_id, account, since FROM releases", &store->release_list);
  return r;
}

/* A store this process may only read: SQLite cannot read a WAL database
 * in a directory it cannot write (it needs the -shm file), unless told the
 * file will not change under it. Lookups work; writes fail with -EROFS. */
static int open_read_only(struct store *store, const char *path)
{
  _cleanup_free_ char *encoded = pct_encode(path);
  _cleanup_free_ char *uri = xasprintf("file:%s?immutable=1", encoded);

  sqlite3_close(store->db);
  store->db = NULL;
  log_warn(
    "local store %s is read-only: known phones still connect, new bindings are not "
    "recorded locally",
    path);
  return sqlite_errno(
    sqlite3_open_v2(uri, &store->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL));
}

int store_open(const char *path, const uint8_t *key, size_t key_len, struct store **out_store)
{
  struct store *store;
  int r, rc;

  if (key_len == 0 || key_len > STORE_KEY_MAX)
    return -EINVAL;
  store = xcalloc(1, sizeof *store);
  store->key = hash_hmac_key_new(key, key_len);
  memcpy(store->raw_key, key, key_len);
  store->raw_key_len = key_len;
  rc = sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  r = sqlite_errno(rc);
  if (r == -EROFS || r == -EACCES || r == -ENOENT)
    r = open_read_only(store, path);
  /* The first statement that reads the file finds out whether it is a
   * database at all; journal_mode reads the header. The daemon is the
   * store's only user: an exclusive lock, taken at the first transaction
   * and kept, spares every later one its fcntl lock and unlock calls
   * (eight of the 42 system calls between a known phone's uevent and its
   * Decision). Set after WAL mode is entered: before, a store in a
   * directory we may not write fails with an I/O error, not read-only. */
  if (r == 0)
    r = exec(store, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
  if (r == -EROFS)
    r = open_read_only(store, path);
  else if (r == 0)
    r = exec(store, "PRAGMA locking_mode=EXCLUSIVE");
  if (r == 0)
    sqlite3_extended_result_codes(store->db, 1);
  if (r == 0)
    r = migrate(store);
  if (r == 0)
    r = prepare_all(store);
  if (r < 0) {
    store_close(store);
    return r;
  }
  *out_store = store;
  return 0;
}

void store_close(struct store *store)
{
  if (!store)
    return;
  sqlite3_finalize(store->select);
  sqlite3_finalize(store->upsert);
  sqlite3_finalize(store->touch);
  sqlite3_finalize(store->delete);
  sqlite3_finalize(store->delete_all);
  sqlite3_finalize(store->counter_get);
  sqlite3_finalize(store->counter_set);
  sqlite3_finalize(store->release_add);
  sqlite3_finalize(store->release_drop);
  sqlite3_finalize(store->release_list);
  sqlite3_close(store->db);
  hash_hmac_key_free(store->key);
  explicit_bzero(store->raw_key, sizeof store->raw_key);
  free(store);
}

static void bind_id(struct store *store, sqlite3_stmt *stmt, const char *terminal_id,
                    uint8_t hash[HASH_SHA256_LEN])
{
  hash_hmac_sha256_with(store->key, terminal_id, strlen(terminal_id), hash);
  sqlite3_bind_blob(stmt, 1, hash, HASH_SHA256_LEN, SQLITE_STATIC);
}

static int finish(sqlite3_stmt *stmt, int rc)
{
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return sqlite_errno(rc);
}

static char *column_text(sqlite3_stmt *stmt, int column)
{
  const unsigned char *text = sqlite3_column_text(stmt, column);

  return xstrdup(text ? (const char *)text : "");
}

int store_lookup_terminal(struct store *store, const char *terminal_id,
                          struct store_entry *out_entry)
{
  uint8_t hash[HASH_SHA256_LEN];
  int rc;

  bind_id(store, store->select, terminal_id, hash);
  rc = sqlite3_step(store->select);
  if (rc == SQLITE_ROW) {
    *out_entry = (struct store_entry){
      .vendor = column_text(store->select, 0),
      .model = column_text(store->select, 1),
      .serial = column_text(store->select, 2),
      .first_seen = (uint64_t)sqlite3_column_int64(store->select, 3),
      .last_seen = (uint64_t)sqlite3_column_int64(store->select, 4),
      .bound_since = (uint64_t)sqlite3_column_int64(store->select, 5),
    };
    finish(store->select, SQLITE_DONE);
    return 1;
  }
  return finish(store->select, rc);
}

int store_record_binding(struct store *store, const char *terminal_id,
                         const struct store_entry *entry)
{
  sqlite3_stmt *stmt = store->upsert;
  uint8_t hash[HASH_SHA256_LEN];

  bind_id(store, stmt, terminal_id, hash);
  sqlite3_bind_text(stmt, 2, entry->vendor ? entry->vendor : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(stmt, 3, entry->model ? entry->model : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(stmt, 4, entry->serial ? entry->serial : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(stmt, 5, (sqlite3_int64)entry->first_seen);
  sqlite3_bind_int64(stmt, 6, (sqlite3_int64)entry->last_seen);
  sqlite3_bind_int64(stmt, 7, (sqlite3_int64)entry->bound_since);
  return finish(stmt, sqlite3_step(stmt));
}

int store_touch_terminal(struct store *store, const char *terminal_id, uint64_t now)
{
  uint8_t hash[HASH_SHA256_LEN];
  int r;

  bind_id(store, store->touch, terminal_id, hash);
  sqlite3_bind_int64(store->touch, 2, (sqlite3_int64)now);
  r = finish(store->touch, sqlite3_step(store->touch));
  if (r == 0 && sqlite3_changes(store->db) == 0)
    return -ENOENT;
  return r;
}

int store_forget_terminal(struct store *store, const char *terminal_id)
{
  uint8_t hash[HASH_SHA256_LEN];

  bind_id(store, store->delete, terminal_id, hash);
  return finish(store->delete, sqlite3_step(store->delete));
}

int store_forget_all_terminals(struct store *store)
{
  return finish(store->delete_all, sqlite3_step(store->delete_all));
}

int store_get_counter(struct store *store, const char *name, uint64_t *out_value)
{
  int rc;

  sqlite3_bind_text(store->counter_get, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step(store->counter_get);
  *out_value = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(store->counter_get, 0) : 0;
  return finish(store->counter_get, rc);
}

int store_set_counter(struct store *store, const char *name, uint64_t value)
{
  sqlite3_bind_text(store->counter_set, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(store->counter_set, 2, (sqlite3_int64)value);
  return finish(store->counter_set, sqlite3_step(store->counter_set));
}

int store_add_release(struct store *store, const char *terminal_id, const char *account,
                      uint64_t since)
{
  sqlite3_stmt *stmt = store->release_add;
  uint8_t hash[HASH_SHA256_LEN];
  _cleanup_free_ uint8_t *sealed = NULL;
  size_t sealed_len;
  int r = seal_data(store->raw_key, store->raw_key_len, terminal_id, strlen(terminal_id), &sealed,
                    &sealed_len);

  if (r < 0)
    return r;
  bind_id(store, stmt, terminal_id, hash);
  sqlite3_bind_blob(stmt, 2, sealed, (int)sealed_len, SQLITE_STATIC);
  sqlite3_bind_text(stmt, 3, account, -1, SQLITE_STATIC);
  sqlite3_bind_int64(stmt, 4, (sqlite3_int64)since);
  return finish(stmt, sqlite3_step(stmt));
}

int store_drop_release(struct store *store, const char *terminal_id)
{
  uint8_t hash[HASH_SHA256_LEN];

  bind_id(store, store->release_drop, terminal_id, hash);
  return finish(store->release_drop, sqlite3_step(store->release_drop));
}

/* A row sealed under another key (the store key was replaced) cannot be
 * sent again: it is skipped, and said so. */
static void report_release_row(struct store *store, sqlite3_stmt *stmt, store_release_fn fn,
                               void *userdata)
{
  _cleanup_free_ uint8_t *plain = NULL;
  size_t plain_len;
  const char *account = (const char *)sqlite3_column_text(stmt, 1);
  int r = seal_open(store->raw_key, store->raw_key_len, sqlite3_column_blob(stmt, 0),
                    (size_t)sqlite3_column_bytes(stmt, 0), &plain, &plain_len);

  if (r < 0 || strlen((const char *)plain) != plain_len) {
    log_err("a pending release in the local store cannot be read (sealed with another key)");
    return;
  }
  fn((const char *)plain, account ? account : "", (uint64_t)sqlite3_column_int64(stmt, 2),
     userdata);
}

int store_foreach_release(struct store *store, store_release_fn fn, void *userdata)
{
  sqlite3_stmt *stmt = store->release_list;
  int rc;

  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
    report_release_row(store, stmt, fn, userdata);
  return finish(stmt, rc);
}

void store_entry_clear(struct store_entry *entry)
{
  free(entry->vendor);
  free(entry->model);
  free(entry->serial);
  *entry = (struct store_entry){0};
}
