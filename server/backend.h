/* Storage behind the registry: a small vtable, as smtpd does for its tables,
 * so SQLite and (later) PostgreSQL are two entries, not two code paths
 * through the HTTP layer. The backend never sees a raw terminal identifier
 * or token: only their keyed hash and SHA-256. Every operation is safe to
 * call from any HTTP thread at once. Times (`now`) are milliseconds since
 * the epoch. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define ACCOUNT_ID_MAX 64

struct backend;

enum binding_status {
  BINDING_UNBOUND,
  BINDING_BOUND_TO_YOU,
  BINDING_BOUND_TO_OTHER,
};

enum claim_result {
  CLAIM_BOUND_NOW, /* 201 */
  CLAIM_RENEWED,   /* 200 */
  CLAIM_CONFLICT,  /* 409 bound-to-other */
  CLAIM_STALE,     /* 409 stale: a newer request of this account came first */
  CLAIM_RESULT_COUNT,
};

enum release_result {
  RELEASE_DONE,      /* 204 */
  RELEASE_NOT_BOUND, /* 404 */
  RELEASE_NOT_OWNER, /* 403 */
  RELEASE_STALE,     /* 409 stale */
};

struct backend_ops {
  const char *scheme; /* "sqlite" */
  int (*open)(const char *location, struct backend **out_backend);
  void (*close)(struct backend *backend);
  int (*lookup)(struct backend *backend, const uint8_t terminal_hash[HASH_SHA256_LEN],
                const char *account, enum binding_status *out_status);
  /* Claims and releases are fenced (fence.h): seq is the request's
   * Phonebind-Seq, 0 when it had none; for a *_STALE answer *out_seq (when
   * not NULL) is the sequence stored for this terminal and account. The
   * fence is checked and the write made under one lock. */
  int (*claim)(struct backend *backend, const uint8_t terminal_hash[HASH_SHA256_LEN],
               const char *account, uint64_t seq, uint64_t now, enum claim_result *out_result,
               uint64_t *out_seq);
  int (*release)(struct backend *backend, const uint8_t terminal_hash[HASH_SHA256_LEN],
                 const char *account, uint64_t seq, uint64_t now, enum release_result *out_result,
                 uint64_t *out_seq);
  /* Stores a new account under a fresh unique id (written to out_account,
   * ACCOUNT_ID_MAX bytes); -EEXIST when the token hash is taken. */
  int (*create_account)(struct backend *backend, const uint8_t token_hash[HASH_SHA256_LEN],
                        uint64_t now, char *out_account);
  /* 1 and the account id when the token hash belongs to one, 0 when not. */
  int (*find_account)(struct backend *backend, const uint8_t token_hash[HASH_SHA256_LEN],
                      char *out_account);
  /* The database's check value of the terminal-id key: 1 and out_check
   * set, or 0 when it has none. *out_keyed tells whether it holds data
   * hashed with some key (bindings, tombstones), which a new key would
   * orphan. */
  int (*read_key_check)(struct backend *backend, uint8_t out_check[HASH_SHA256_LEN],
                        bool *out_keyed);
  /* Stores check unless the database has a check value already: 0 when
   * the stored value is (now) check, -EKEYREJECTED when it is another. */
  int (*store_key_check)(struct backend *backend, const uint8_t check[HASH_SHA256_LEN]);
};

/* Every backend starts with this, so callers can reach the ops. */
struct backend {
  const struct backend_ops *ops;
};

extern const struct backend_ops backend_sqlite_ops;

/* Opens the backend a database URI names: "sqlite:PATH" or a bare path.
 * 0 or -errno; -EPROTONOSUPPORT for an unknown scheme. */
int backend_open_uri(const char *uri, struct backend **out_backend);
/* The SQLite file path of a URI, or NULL for other schemes; borrowed. */
const char *backend_uri_sqlite_path(const char *uri);

static inline void backend_close(struct backend *backend)
{
  if (backend)
    backend->ops->close(backend);
}
