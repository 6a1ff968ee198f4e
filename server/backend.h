/* Storage behind the registry: a small vtable, as smtpd does for its tables,
 * so SQLite and PostgreSQL are two entries, not two code paths through the
 * HTTP layer. The backend never sees a raw terminal identifier or token:
 * only their keyed hash and SHA-256. Times (`now`) are milliseconds since
 * the epoch.
 *
 * Requests are completion-based: each takes a struct backend_call (the
 * calling thread's event loop, a callback and its userdata) and answers by
 * calling back exactly once, either before it returns (SQLite answers at
 * once) or later from that loop (PostgreSQL waits for the network without
 * blocking it). Arguments are borrowed for the call only. Start-up calls
 * (open, the key check value) are plain synchronous functions. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define ACCOUNT_ID_MAX 64

/* Errors a request may answer besides the usual -errno. */
#define BACKEND_UNAVAILABLE (-ENOTCONN) /* database not reached: nothing done (503) */
#define BACKEND_UNKNOWN (-ECONNABORTED) /* a write sent, its outcome lost */

struct backend;
struct backend_admin_ops;
struct event_base;

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

/* A request's answer; which fields mean something depends on the request. */
struct backend_result {
  int error;                  /* 0 or -errno (BACKEND_UNAVAILABLE, BACKEND_UNKNOWN, -ENOSPC, …) */
  unsigned retry_after_s;     /* with BACKEND_UNAVAILABLE: when to try again */
  enum binding_status status; /* lookup */
  enum claim_result claim;    /* claim */
  enum release_result release;  /* release */
  uint64_t seq;                 /* a *_STALE answer's stored sequence */
  bool found;                   /* find_account: the token hash has an account */
  char account[ACCOUNT_ID_MAX]; /* create_account, find_account (when found) */
};

typedef void backend_done_fn(const struct backend_result *result, void *userdata);

/* Who asks: the calling thread's loop (attached with attach_loop; NULL
 * for a backend that answers at once) and where the answer goes. */
struct backend_call {
  struct event_base *base;
  backend_done_fn *done;
  void *userdata;
};

struct backend_ops {
  const char *scheme; /* "sqlite", "postgresql" */
  int (*open)(const char *location, struct backend **out_backend);
  void (*close)(struct backend *backend);
  /* Optional. Start-up is over (the key is checked): what only start-up
   * needed may go. */
  void (*end_startup)(struct backend *backend);
  /* Optional. A thread's loop will make requests (attach, before it runs)
   * or has stopped (detach, from that thread, after its loop returned and
   * before its evhttp is freed: requests still in flight are answered
   * BACKEND_UNAVAILABLE then). */
  int (*attach_loop)(struct backend *backend, struct event_base *base);
  void (*detach_loop)(struct backend *backend, struct event_base *base);
  void (*lookup)(struct backend *backend, const struct backend_call *call,
                 const uint8_t terminal_hash[HASH_SHA256_LEN], const char *account);
  /* Claims and releases are fenced (fence.h): seq is the request's
   * Phonebind-Seq, 0 when it had none; a *_STALE answer carries the
   * sequence stored for this terminal and account. The fence is checked
   * and the write made atomically. */
  void (*claim)(struct backend *backend, const struct backend_call *call,
                const uint8_t terminal_hash[HASH_SHA256_LEN], const char *account, uint64_t seq,
                uint64_t now);
  void (*release)(struct backend *backend, const struct backend_call *call,
                  const uint8_t terminal_hash[HASH_SHA256_LEN], const char *account, uint64_t seq,
                  uint64_t now);
  /* Stores a new account under a fresh unique id (in the result); -EEXIST
   * when the token hash is taken. */
  void (*create_account)(struct backend *backend, const struct backend_call *call,
                         const uint8_t token_hash[HASH_SHA256_LEN], uint64_t now);
  /* found and the account id when the token hash belongs to one. */
  void (*find_account)(struct backend *backend, const struct backend_call *call,
                       const uint8_t token_hash[HASH_SHA256_LEN]);
  /* Optional (binding-ttl): a binding its owner has not renewed for
   * ttl_ms has lapsed: lookups say unbound, anyone's claim takes it, and
   * its owner's sequence stays as a tombstone's. 0: never. Start-up only. */
  void (*set_binding_ttl)(struct backend *backend, uint64_t ttl_ms);
  /* 0 when the database answers (for /healthz). */
  void (*health)(struct backend *backend, const struct backend_call *call);
  /* The database's check value of the terminal-id key: 1 and out_check
   * set, or 0 when it has none. *out_keyed tells whether it holds data
   * hashed with some key (bindings, tombstones), which a new key would
   * orphan. Start-up only. */
  int (*read_key_check)(struct backend *backend, uint8_t out_check[HASH_SHA256_LEN],
                        bool *out_keyed);
  /* Stores check unless the database has a check value already: 0 when
   * the stored value is (now) check, -EKEYREJECTED when it is another.
   * Start-up only. */
  int (*store_key_check)(struct backend *backend, const uint8_t check[HASH_SHA256_LEN]);
  /* The support tool's requests (backend_admin.h); NULL: none. */
  const struct backend_admin_ops *admin;
  /* Optional; for a backend whose read_key_check answered
   * BACKEND_UNAVAILABLE: it answers BACKEND_UNAVAILABLE to every request
   * until it has reached the database, migrated it and found (or stored)
   * this check value there; refused() is called (from any thread) when
   * the database holds another. Start-up only, after which end_startup is
   * not needed. */
  void (*verify_key_later)(struct backend *backend, const uint8_t check[HASH_SHA256_LEN],
                           void (*refused)(void));
};

/* Every backend starts with this, so callers can reach the ops. */
struct backend {
  const struct backend_ops *ops;
};

extern const struct backend_ops backend_sqlite_ops;
extern const struct backend_ops backend_pg_ops;

/* Opens the backend a database URI names: "sqlite:PATH" or a bare path,
 * "postgresql://…" or "postgres://…" (a libpq URI).
 * 0 or -errno; -EPROTONOSUPPORT for an unknown scheme. */
int backend_open_uri(const char *uri, struct backend **out_backend);
/* The SQLite file path of a URI, or NULL for other schemes; borrowed. */
const char *backend_uri_sqlite_path(const char *uri);

/* Calls call->done with result: how a backend answers. */
static inline void backend_answer(const struct backend_call *call,
                                  const struct backend_result *result)
{
  call->done(result, call->userdata);
}

/* Answers an error alone. */
void backend_answer_error(const struct backend_call *call, int error);

static inline void backend_close(struct backend *backend)
{
  if (backend)
    backend->ops->close(backend);
}

static inline void backend_set_binding_ttl(struct backend *backend, uint64_t ttl_ms)
{
  if (backend->ops->set_binding_ttl)
    backend->ops->set_binding_ttl(backend, ttl_ms);
}

static inline void backend_end_startup(struct backend *backend)
{
  if (backend->ops->end_startup)
    backend->ops->end_startup(backend);
}

static inline int backend_attach_loop(struct backend *backend, struct event_base *base)
{
  return backend->ops->attach_loop ? backend->ops->attach_loop(backend, base) : 0;
}

static inline void backend_detach_loop(struct backend *backend, struct event_base *base)
{
  if (backend->ops->detach_loop)
    backend->ops->detach_loop(backend, base);
}
