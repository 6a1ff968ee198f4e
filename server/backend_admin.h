/* What the support tool (phonebind-registry admin, server/admin*.c) asks
 * of a backend, beside the requests the HTTP layer makes. Plain
 * synchronous calls: they are made by a one-shot command, or by a running
 * SQLite registry on its main thread for a command handed to it over its
 * local socket. Terminals are keyed hashes, as everywhere in the backend;
 * times are milliseconds since the epoch. A lapsed binding (binding-ttl)
 * counts as no binding. */
#pragma once

#include <stdint.h>

#include "backend.h"

struct backend_binding_info {
  char owner[ACCOUNT_ID_MAX];
  uint64_t created_ms, renewed_ms;
};

struct backend_stats {
  uint64_t bindings; /* not lapsed */
  uint64_t accounts; /* not revoked */
};

/* Told of a revocation made by any process (PostgreSQL: LISTEN/NOTIFY),
 * so that no cache keeps the account's tokens; account NULL: revocations
 * may have been missed (the news was interrupted), forget every token. */
typedef void backend_revoked_fn(const char *account, void *userdata);
struct backend_watch;

struct backend_admin_ops {
  /* 1 and *out when the terminal is bound, 0 when not. */
  int (*show)(struct backend *backend, const uint8_t terminal_hash[HASH_SHA256_LEN], uint64_t now,
              struct backend_binding_info *out);
  /* Removes the binding whoever holds it; its owner's sequence stays as a
   * tombstone. 1 and *out (the binding that was) when released, 0 when
   * not bound. */
  int (*release)(struct backend *backend, const uint8_t terminal_hash[HASH_SHA256_LEN],
                 uint64_t now, struct backend_binding_info *out);
  /* Its tokens are refused from now on. 1 when revoked (now or before), 0
   * for an unknown account. */
  int (*revoke)(struct backend *backend, const char *account, uint64_t now);
  int (*stats)(struct backend *backend, uint64_t now, struct backend_stats *out);
  /* An account of the given name (not a shadow account's id). 0, or
   * -EEXIST when the name or the token hash is taken. */
  int (*create_account)(struct backend *backend, const char *name,
                        const uint8_t token_hash[HASH_SHA256_LEN], uint64_t now);
  /* Every binding of from becomes to's (sequences reset: to's daemons
   * number their own requests). 0 and *out_moved, or -ENOENT when either
   * account is unknown or revoked. */
  int (*move_bindings)(struct backend *backend, const char *from, const char *to, uint64_t now,
                       uint64_t *out_moved);
  /* A consistent copy of the database to path, while serving. NULL for a
   * backend whose copies are made with its own tools (pg_dump). */
  int (*backup)(struct backend *backend, const char *path, uint64_t *out_bytes);
  /* Optional: call fn (from a thread of the backend's) for every
   * revocation, made by any process, until unwatch. 0 or -errno. */
  int (*watch_revocations)(struct backend *backend, backend_revoked_fn *fn, void *userdata,
                           struct backend_watch **out_watch);
  void (*unwatch)(struct backend_watch *watch);
};

extern const struct backend_admin_ops backend_sqlite_admin_ops;
