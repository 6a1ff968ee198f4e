/* The SQLite backend's state, shared by its two files: the requests of
 * the HTTP layer (backend_sqlite.c) and the support tool's
 * (backend_sqlite_admin.c). Private to them. */
#pragma once

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

struct bound_filter;

struct backend_sqlite {
  struct backend base;
  char *path;
  pthread_mutex_t lock; /* guards the connection and every statement */
  sqlite3 *db;
  sqlite3_stmt *insert_binding, *renew_binding, *delete_binding, *insert_account;
  sqlite3_stmt *select_account_id, *select_binding, *select_account;
  sqlite3_stmt *select_tombstone, *upsert_tombstone, *delete_tombstone, *purge_tombstones;
  sqlite3_stmt *begin, *commit, *rollback;
  struct bound_filter *bound; /* lookups of unbound terminals skip the lock */
  uint64_t purged_at;         /* when old tombstones were last purged */
  uint64_t ttl_ms;            /* binding-ttl; 0: bindings never lapse */
};

/* A binding as select_owner reads it. */
struct owner_row {
  char account[ACCOUNT_ID_MAX];
  uint64_t seq, renewed_at;
};

/* binding-ttl: not renewed for longer than the TTL. */
static inline bool backend_sqlite_lapsed(const struct backend_sqlite *be, uint64_t renewed_at,
                                         uint64_t now)
{
  return be->ttl_ms && now > renewed_at && now - renewed_at > be->ttl_ms;
}
