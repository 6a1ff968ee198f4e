/* PostgreSQL backend of the registry. At start, one blocking connection
 * takes the migration lock, migrates the schema and reads (and stores)
 * the key check value, all under the lock, so that of several instances
 * starting at once one migrates and, of two with keys of their own, the
 * second refuses to start; end_startup lets go of it. Then each HTTP
 * thread's loop has a pool of asynchronous connections of its own
 * (backend_pg_pool.h) and requests never block it.
 *
 * Nothing is remembered here that another instance could change: every
 * lookup asks the database (no Bloom filter of bound terminals, which
 * would miss another instance's bindings). */
#include "account_id.h"
#include "backend.h"
#include "backend_admin.h"
#include "backend_pg_admin.h"
#include "backend_pg_pool.h"
#include "backend_pg_schema.h"
#include "log.h"
#include "uri_mask.h"
#include "xalloc.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_CHECK_NAME "terminal-key-check"
#define TOMBSTONE_KEEP_MS ((uint64_t)7 * 24 * 3600 * 1000) /* the contract: at least a week */
#define PURGE_EVERY_MS ((uint64_t)3600 * 1000)
#define REQUEST_TIMEOUT_US (5 * 1000000) /* within the HTTP layer's 10 s */
#define POOL_SIZE 4                      /* connections per HTTP thread */
#define ACCOUNT_ATTEMPTS 16

/* Settings libpq takes before the URI's own (which override them): the
 * registry only ever wants a writable primary, and a dead link noticed. */
static const char *const default_keywords[] = {
  "connect_timeout",  "target_session_attrs",      "keepalives_idle", "keepalives_interval",
  "keepalives_count", "fallback_application_name", "dbname",          NULL,
};
#define DEFAULT_VALUES "5", "read-write", "10", "3", "3", "phonebind-registry"

struct loop_pool {
  struct event_base *base;
  struct pg_pool *pool;
};

struct backend_pg {
  struct backend base;
  char *uri;
  char *shown; /* the URI with its password masked */
  const char *values[sizeof default_keywords / sizeof *default_keywords];
  PGconn *startup;      /* holds the migration lock until end_startup */
  pthread_mutex_t lock; /* guards loops, and the verifier's waits */
  struct loop_pool *loops;
  size_t loop_count;
  atomic_bool verified; /* schema and key checked: requests may go */
  /* A registry started while the database could not be reached checks
   * it from a thread of its own once it can (verify_key_later). */
  pthread_t verifier;
  bool verifier_started, stopping;
  pthread_cond_t wake;
  uint8_t check[HASH_SHA256_LEN];
  void (*refused)(void);
  struct pg_pool_shared shared;
  _Atomic uint64_t purged_at;
  uint64_t ttl_ms;   /* binding-ttl; 0: never */
  char ttl_text[24]; /* the same, as the statements' parameter */
};

enum op_kind {
  OP_LOOKUP,
  OP_CLAIM,
  OP_RELEASE,
  OP_CREATE_ACCOUNT,
  OP_FIND_ACCOUNT,
  OP_HEALTH,
  OP_PURGE,
};

/* One request, from the call to its answer. */
struct op {
  struct pg_request request;
  struct backend_call call;
  struct pg_pool *pool;
  enum op_kind kind;
  uint8_t hash[HASH_SHA256_LEN];
  char account[ACCOUNT_ID_MAX];
  char seq[24], now[24];
  const char *ttl; /* the backend's ttl_text */
  int attempts;
};

static __thread struct {
  const struct backend_pg *be;
  struct event_base *base;
  struct pg_pool *pool;
} tls_loop;

static struct pg_pool *pool_of(struct backend_pg *be, struct event_base *base)
{
  struct pg_pool *pool = NULL;

  if (tls_loop.be == be && tls_loop.base == base && base)
    return tls_loop.pool;
  pthread_mutex_lock(&be->lock);
  for (size_t i = 0; i < be->loop_count && !pool; i++)
    if (be->loops[i].base == base)
      pool = be->loops[i].pool;
  pthread_mutex_unlock(&be->lock);
  if (pool) {
    tls_loop.be = be;
    tls_loop.base = base;
    tls_loop.pool = pool;
  }
  return pool;
}

static void op_answer(struct op *op, const struct backend_result *result)
{
  backend_answer(&op->call, result);
  free(op);
}

/* What a failed statement means for the caller. */
static int error_of(const PGresult *res)
{
  const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

  if (!state)
    return -EIO;
  if (strcmp(state, "23505") == 0)
    return -EEXIST;
  if (strcmp(state, "53100") == 0)
    return -ENOSPC;
  /* not done: read-only (a standby), shutting down, a broken link, or a
   * transaction the server aborted (serialization, deadlock) */
  if (strcmp(state, "25006") == 0 || strncmp(state, "57P", 3) == 0 ||
      strncmp(state, "08", 2) == 0 || strncmp(state, "40", 2) == 0)
    return BACKEND_UNAVAILABLE;
  log_err("database: %s", PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
  return -EIO;
}

static int64_t int_value(const PGresult *res, int column)
{
  return strtoll(PQgetvalue(res, 0, column), NULL, 10);
}

static uint64_t seq_from_sql(int64_t value)
{
  uint64_t seq;

  memcpy(&seq, &value, sizeof seq);
  return seq;
}

static void read_row(struct op *op, const PGresult *res, struct backend_result *result)
{
  bool row = PQntuples(res) == 1;

  switch (op->kind) {
  case OP_LOOKUP:
    result->status = !row                                              ? BINDING_UNBOUND
                     : strcmp(PQgetvalue(res, 0, 0), op->account) == 0 ? BINDING_BOUND_TO_YOU
                                                                       : BINDING_BOUND_TO_OTHER;
    break;
  case OP_CLAIM:
  case OP_RELEASE:
    if (!row || int_value(res, 0) < 0 || int_value(res, 0) > CLAIM_STALE) {
      result->error = -EBADMSG;
      break;
    }
    result->claim = (enum claim_result)int_value(res, 0);
    result->release = (enum release_result)int_value(res, 0);
    result->seq = seq_from_sql(int_value(res, 1));
    break;
  case OP_CREATE_ACCOUNT:
  case OP_FIND_ACCOUNT:
    result->found = row;
    if (row)
      snprintf(result->account, sizeof result->account, "%s", PQgetvalue(res, 0, 0));
    break;
  case OP_HEALTH:
    if (!row || strcmp(PQgetvalue(res, 0, 0), "f") != 0)
      result->error = BACKEND_UNAVAILABLE; /* a standby now */
    break;
  case OP_PURGE:
    break;
  }
}

static void submit(struct op *op);

/* Seed [0044]: an id already taken (no row inserted) is generated anew. */
static bool retry_account(struct op *op)
{
  if (++op->attempts >= ACCOUNT_ATTEMPTS || account_id_generate(op->account) < 0)
    return false;
  log_debug("shadow account id collision; generating another");
  submit(op);
  return true;
}

static void on_request_done(struct pg_request *request, PGresult *res, int error)
{
  struct op *op = (struct op *)request;
  struct backend_result result = {.error = error, .retry_after_s = request->retry_after_s};

  if (!error && PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
    result.error = error_of(res);
  if (result.error == BACKEND_UNKNOWN && !request->write)
    result.error = BACKEND_UNAVAILABLE;
  if (result.error == 0)
    read_row(op, res, &result);
  if (op->kind == OP_CREATE_ACCOUNT && result.error == 0 && !result.found) {
    if (retry_account(op))
      return;
    result.error = -EEXIST;
  }
  if (op->kind == OP_PURGE) {
    if (result.error < 0)
      log_warn("database: cannot purge old tombstones: %s", strerror(-result.error));
    free(op);
    return;
  }
  op_answer(op, &result);
}

static void set_param(struct op *op, int i, const char *value, int length, int format)
{
  op->request.values[i] = value;
  op->request.lengths[i] = length;
  op->request.formats[i] = format;
}

/* Parameters by kind: $1 the hash (binary), then text. */
static void submit(struct op *op)
{
  static const enum pg_statement statements[] = {
    [OP_LOOKUP] = PG_LOOKUP,
    [OP_CLAIM] = PG_CLAIM,
    [OP_RELEASE] = PG_RELEASE,
    [OP_CREATE_ACCOUNT] = PG_CREATE_ACCOUNT,
    [OP_FIND_ACCOUNT] = PG_FIND_ACCOUNT,
    [OP_HEALTH] = PG_HEALTH,
    [OP_PURGE] = PG_PURGE_TOMBSTONES,
  };
  struct pg_request *request = &op->request;

  request->statement = statements[op->kind];
  request->write = op->kind == OP_CLAIM || op->kind == OP_RELEASE ||
                   op->kind == OP_CREATE_ACCOUNT || op->kind == OP_PURGE;
  request->deadline_us = pg_monotonic_us() + REQUEST_TIMEOUT_US;
  request->done = on_request_done;
  if (op->kind == OP_PURGE)
    set_param(op, 0, op->now, -1, 0);
  else if (op->kind != OP_HEALTH)
    set_param(op, 0, (const char *)op->hash, HASH_SHA256_LEN, 1);
  if (op->kind == OP_CLAIM || op->kind == OP_RELEASE || op->kind == OP_CREATE_ACCOUNT)
    set_param(op, 1, op->account, -1, 0);
  if (op->kind == OP_CLAIM || op->kind == OP_RELEASE)
    set_param(op, 2, op->seq, -1, 0);
  if (op->kind == OP_CREATE_ACCOUNT)
    set_param(op, 2, op->now, -1, 0);
  if (op->kind == OP_CLAIM || op->kind == OP_RELEASE)
    set_param(op, 3, op->now, -1, 0);
  if (op->kind == OP_CLAIM || op->kind == OP_RELEASE)
    set_param(op, 4, op->ttl, -1, 0);
  if (op->kind == OP_LOOKUP) { /* a lapsed binding is none */
    set_param(op, 1, op->ttl, -1, 0);
    set_param(op, 2, op->now, -1, 0);
  }
  pg_pool_submit(op->pool, request);
}

/* A new request of the calling loop; NULL (and answered) when the loop
 * was never attached. */
static struct op *op_new(struct backend *base, const struct backend_call *call, enum op_kind kind,
                         const uint8_t *hash, const char *account)
{
  struct backend_pg *be = (struct backend_pg *)base;
  struct pg_pool *pool = pool_of(be, call->base);
  struct op *op;

  if (!atomic_load(&be->verified)) {
    backend_answer(call,
                   &(struct backend_result){.error = BACKEND_UNAVAILABLE, .retry_after_s = 1});
    return NULL;
  }
  if (!pool) {
    log_err("database request from a thread without a database connection");
    backend_answer_error(call, -EINVAL);
    return NULL;
  }
  op = xcalloc(1, sizeof *op);
  op->call = *call;
  op->pool = pool;
  op->kind = kind;
  op->ttl = be->ttl_text;
  if (hash)
    memcpy(op->hash, hash, HASH_SHA256_LEN);
  if (account)
    snprintf(op->account, sizeof op->account, "%s", account);
  return op;
}

/* Old tombstones go at most once an hour per instance, with a write. */
static void maybe_purge(struct backend *base, const struct backend_call *call, uint64_t now)
{
  struct backend_pg *be = (struct backend_pg *)base;
  uint64_t last = atomic_load(&be->purged_at);
  struct op *op;

  if (now < last + PURGE_EVERY_MS || now <= TOMBSTONE_KEEP_MS ||
      !atomic_compare_exchange_strong(&be->purged_at, &last, now))
    return;
  op = op_new(base, call, OP_PURGE, NULL, NULL);
  if (!op)
    return;
  snprintf(op->now, sizeof op->now, "%" PRIu64, now - TOMBSTONE_KEEP_MS);
  submit(op);
}

static uint64_t wall_clock_ms(void);

static void pg_lookup(struct backend *base, const struct backend_call *call,
                      const uint8_t *terminal_hash, const char *account)
{
  struct op *op = op_new(base, call, OP_LOOKUP, terminal_hash, account);

  if (!op)
    return;
  snprintf(op->now, sizeof op->now, "%" PRIu64, wall_clock_ms());
  submit(op);
}

static void fenced(struct backend *base, const struct backend_call *call, enum op_kind kind,
                   const uint8_t *terminal_hash, const char *account, uint64_t seq, uint64_t now)
{
  struct op *op = op_new(base, call, kind, terminal_hash, account);
  int64_t seq_bits;

  if (!op)
    return;
  memcpy(&seq_bits, &seq, sizeof seq_bits); /* the signed bigint of the same bits */
  snprintf(op->seq, sizeof op->seq, "%" PRId64, seq_bits);
  snprintf(op->now, sizeof op->now, "%" PRIu64, now);
  submit(op);
  maybe_purge(base, call, now);
}

static void pg_claim(struct backend *base, const struct backend_call *call,
                     const uint8_t *terminal_hash, const char *account, uint64_t seq, uint64_t now)
{
  fenced(base, call, OP_CLAIM, terminal_hash, account, seq, now);
}

static void pg_release(struct backend *base, const struct backend_call *call,
                       const uint8_t *terminal_hash, const char *account, uint64_t seq,
                       uint64_t now)
{
  fenced(base, call, OP_RELEASE, terminal_hash, account, seq, now);
}

static void pg_create_account(struct backend *base, const struct backend_call *call,
                              const uint8_t *token_hash, uint64_t now)
{
  struct op *op = op_new(base, call, OP_CREATE_ACCOUNT, token_hash, NULL);

  if (!op)
    return;
  if (account_id_generate(op->account) < 0) {
    op_answer(op, &(struct backend_result){.error = -EIO});
    return;
  }
  snprintf(op->now, sizeof op->now, "%" PRIu64, now);
  submit(op);
}

static void pg_find_account(struct backend *base, const struct backend_call *call,
                            const uint8_t *token_hash)
{
  struct op *op = op_new(base, call, OP_FIND_ACCOUNT, token_hash, NULL);

  if (op)
    submit(op);
}

static void pg_health(struct backend *base, const struct backend_call *call)
{
  struct op *op = op_new(base, call, OP_HEALTH, NULL, NULL);

  if (op)
    submit(op);
}

static int pg_attach_loop(struct backend *base, struct event_base *loop)
{
  struct backend_pg *be = (struct backend_pg *)base;
  struct pg_pool *pool;

  pthread_mutex_lock(&be->lock); /* verified is set under it, then the pools started */
  pool = pg_pool_new(loop, default_keywords, be->values, POOL_SIZE, &be->shared,
                     atomic_load(&be->verified));
  be->loops = xrealloc(be->loops, (be->loop_count + 1) * sizeof *be->loops);
  be->loops[be->loop_count++] = (struct loop_pool){loop, pool};
  pthread_mutex_unlock(&be->lock);
  return 0;
}

/* From the loop's own thread: its pool answers what it still holds. */
static void pg_detach_loop(struct backend *base, struct event_base *loop)
{
  struct backend_pg *be = (struct backend_pg *)base;
  struct pg_pool *pool = NULL;

  pthread_mutex_lock(&be->lock);
  for (size_t i = 0; i < be->loop_count; i++) {
    if (be->loops[i].base != loop)
      continue;
    pool = be->loops[i].pool;
    be->loops[i] = be->loops[--be->loop_count];
    break;
  }
  pthread_mutex_unlock(&be->lock);
  if (tls_loop.base == loop)
    tls_loop.be = NULL;
  pg_pool_free(pool);
}

/* A start-up query with binary parameters and results; the caller clears
 * the result. NULL (logged) when it failed. */
static PGresult *startup_query(struct backend_pg *be, const char *sql, int params,
                               const char *const *values, const int *lengths, const int *formats)
{
  PGresult *res = PQexecParams(be->startup, sql, params, NULL, values, lengths, formats, 1);
  ExecStatusType status = PQresultStatus(res);

  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
    return res;
  log_err("database %s: %s", be->shown, PQresultErrorMessage(res));
  PQclear(res);
  return NULL;
}

static int read_key_check_value(struct backend_pg *be, uint8_t out_check[HASH_SHA256_LEN])
{
  const char *values[] = {KEY_CHECK_NAME};
  PGresult *res =
    startup_query(be, "SELECT value FROM meta WHERE name = $1", 1, values, NULL, NULL);
  int r;

  if (!res)
    return -EIO;
  r = PQntuples(res) == 1;
  if (r == 1 && PQgetlength(res, 0, 0) == HASH_SHA256_LEN)
    memcpy(out_check, PQgetvalue(res, 0, 0), HASH_SHA256_LEN);
  else if (r == 1)
    r = -EBADMSG;
  PQclear(res);
  return r;
}

static int pg_read_key_check(struct backend *base, uint8_t *out_check, bool *out_keyed)
{
  struct backend_pg *be = (struct backend_pg *)base;
  PGresult *res;

  if (!be->startup)
    return BACKEND_UNAVAILABLE;
  res =
    startup_query(be, "SELECT EXISTS (SELECT 1 FROM bindings) OR EXISTS (SELECT 1 FROM tombstones)",
                  0, NULL, NULL, NULL);

  if (!res)
    return -EIO;
  *out_keyed = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] != 0; /* binary bool */
  PQclear(res);
  return read_key_check_value(be, out_check);
}

static int pg_store_key_check(struct backend *base, const uint8_t *check)
{
  struct backend_pg *be = (struct backend_pg *)base;
  const char *values[] = {KEY_CHECK_NAME, (const char *)check};
  const int lengths[] = {0, HASH_SHA256_LEN}, formats[] = {0, 1};
  uint8_t stored[HASH_SHA256_LEN];
  PGresult *res = startup_query(be,
                                "INSERT INTO meta (name, value) VALUES ($1, $2)"
                                " ON CONFLICT (name) DO NOTHING",
                                2, values, lengths, formats);
  int r;

  if (!res)
    return -EIO;
  PQclear(res);
  r = read_key_check_value(be, stored);
  if (r == 0)
    return -EIO; /* stored, yet not there */
  if (r < 0)
    return r;
  return hash_equal_ct(stored, check, HASH_SHA256_LEN) ? 0 : -EKEYREJECTED;
}

static uint64_t wall_clock_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The key is checked: purge what is older than a week, let go of the
 * migration lock and of the start-up connection. */
static void pg_end_startup(struct backend *base)
{
  struct backend_pg *be = (struct backend_pg *)base;
  uint64_t now = wall_clock_ms();
  char cutoff[24];
  const char *values[] = {cutoff};
  PGresult *res;

  if (!be->startup)
    return;
  snprintf(cutoff, sizeof cutoff, "%" PRIu64,
           now > TOMBSTONE_KEEP_MS ? now - TOMBSTONE_KEEP_MS : 0);
  res = startup_query(be, "DELETE FROM tombstones WHERE released_at < $1", 1, values, NULL, NULL);
  PQclear(res);
  atomic_store(&be->purged_at, now);
  PQfinish(be->startup); /* the session's advisory lock goes with it */
  be->startup = NULL;
}

static void pg_close(struct backend *base)
{
  struct backend_pg *be = (struct backend_pg *)base;

  if (be->verifier_started) {
    pthread_mutex_lock(&be->lock);
    be->stopping = true;
    pthread_cond_signal(&be->wake);
    pthread_mutex_unlock(&be->lock);
    pthread_join(be->verifier, NULL);
  }
  for (size_t i = 0; i < be->loop_count; i++)
    pg_pool_free(be->loops[i].pool);
  free(be->loops);
  if (be->startup)
    PQfinish(be->startup);
  pthread_mutex_destroy(&be->lock);
  pthread_cond_destroy(&be->wake);
  free(be->uri);
  free(be->shown);
  free(be);
}

static void notice_to_log(void *arg, const char *message)
{
  (void)arg;
  log_debug("database: %.*s", (int)strcspn(message, "\n"), message);
}

/* Connects, takes the migration lock (waiting for an instance that holds
 * it) and migrates. */
static int start_up(struct backend_pg *be)
{
  char lock[96];

  be->startup = PQconnectdbParams(default_keywords, be->values, 1);
  if (!be->startup)
    return -ENOMEM;
  if (PQstatus(be->startup) != CONNECTION_OK) {
    log_err("cannot reach the database %s: %.*s", be->shown,
            (int)strcspn(PQerrorMessage(be->startup), "\n"), PQerrorMessage(be->startup));
    PQfinish(be->startup);
    be->startup = NULL;
    return -ECONNREFUSED;
  }
  PQsetNoticeProcessor(be->startup, notice_to_log, NULL);
  snprintf(lock, sizeof lock, "SELECT pg_advisory_lock(%d, %d)", PG_MIGRATION_LOCK_CLASS,
           PG_MIGRATION_LOCK_ID);
  if (pg_exec(be->startup, lock) < 0)
    return -EIO;
  return pg_schema_migrate(be->startup, be->shown);
}

static int pg_open(const char *uri, struct backend **out_backend)
{
  struct backend_pg *be = xcalloc(1, sizeof *be);
  const char *defaults[] = {DEFAULT_VALUES};
  size_t n = sizeof defaults / sizeof *defaults;
  int r;

  be->base.ops = &backend_pg_ops;
  be->uri = xstrdup(uri);
  snprintf(be->ttl_text, sizeof be->ttl_text, "0");
  be->shown = uri_mask_credentials(uri);
  memcpy(be->values, defaults, sizeof defaults);
  be->values[n] = be->uri; /* "dbname", expanded: the URI's settings win */
  be->shared.shown = be->shown;
  pthread_mutex_init(&be->lock, NULL);
  pthread_cond_init(&be->wake, NULL);
  r = start_up(be);
  if (r == -ECONNREFUSED) {
    log_warn("database %s: answering 503 until it can be reached", be->shown);
    *out_backend = &be->base; /* verified later (verify_key_later) */
    return 0;
  }
  atomic_store(&be->verified, r == 0);
  if (r < 0) {
    pg_close(&be->base);
    return r;
  }
  *out_backend = &be->base;
  return 0;
}

/* Connect, migrate, find or store the check value: 0 when all is done,
 * -EKEYREJECTED for another key's check value, else -errno to try again. */
static int verify_once(struct backend_pg *be)
{
  int r = start_up(be);

  if (r == 0)
    r = pg_store_key_check(&be->base, be->check);
  if (r == -EKEYREJECTED)
    log_err(
      "database %s holds the check value of another terminal-id key: the key file is "
      "not the key this database was made with; stopping",
      be->shown);
  if (r == 0) {
    log_info("database %s reached: schema and terminal-id key checked", be->shown);
    pg_end_startup(&be->base);
  }
  if (be->startup)
    PQfinish(be->startup);
  be->startup = NULL;
  return r;
}

static void start_pools(struct backend_pg *be)
{
  pthread_mutex_lock(&be->lock);
  atomic_store(&be->verified, true);
  for (size_t i = 0; i < be->loop_count; i++)
    pg_pool_start(be->loops[i].pool);
  pthread_mutex_unlock(&be->lock);
}

static struct timespec realtime_in(unsigned ms)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long)(ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  return ts;
}

/* Tries again and again, 0.5 s doubling to 5 s, until it is settled or
 * the backend closes. The first try waits too: the signal handlers that
 * refused() relies on are installed after start-up. */
static void *verify_run(void *arg)
{
  struct backend_pg *be = arg;
  unsigned wait_ms = 500;
  int r = -EAGAIN;

  pthread_mutex_lock(&be->lock);
  while (!be->stopping) {
    struct timespec until = realtime_in(wait_ms);
    pthread_cond_timedwait(&be->wake, &be->lock, &until);
    if (be->stopping)
      break;
    pthread_mutex_unlock(&be->lock);
    r = verify_once(be);
    pthread_mutex_lock(&be->lock);
    if (r == 0 || r == -EKEYREJECTED)
      break;
    wait_ms = wait_ms * 2 > 5000 ? 5000 : wait_ms * 2;
  }
  pthread_mutex_unlock(&be->lock);
  if (r == 0)
    start_pools(be);
  else if (r == -EKEYREJECTED)
    be->refused();
  return NULL;
}

static void pg_verify_key_later(struct backend *base, const uint8_t *check, void (*refused)(void))
{
  struct backend_pg *be = (struct backend_pg *)base;

  memcpy(be->check, check, HASH_SHA256_LEN);
  be->refused = refused;
  if (pthread_create(&be->verifier, NULL, verify_run, be) != 0)
    log_fatal("cannot start a thread");
  be->verifier_started = true;
}

static void pg_set_binding_ttl(struct backend *base, uint64_t ttl_ms)
{
  struct backend_pg *be = (struct backend_pg *)base;

  be->ttl_ms = ttl_ms;
  snprintf(be->ttl_text, sizeof be->ttl_text, "%" PRIu64, ttl_ms);
}

uint64_t backend_pg_binding_ttl_ms(const struct backend *base)
{
  return ((const struct backend_pg *)base)->ttl_ms;
}

PGconn *backend_pg_connect(struct backend *base)
{
  struct backend_pg *be = (struct backend_pg *)base;
  PGconn *conn = PQconnectdbParams(default_keywords, be->values, 1);

  if (conn && PQstatus(conn) == CONNECTION_OK) {
    PQsetNoticeProcessor(conn, notice_to_log, NULL);
    return conn;
  }
  log_err("cannot reach the database %s: %.*s", be->shown,
          conn ? (int)strcspn(PQerrorMessage(conn), "\n") : 6,
          conn ? PQerrorMessage(conn) : "no memory");
  PQfinish(conn);
  return NULL;
}

const struct backend_ops backend_pg_ops = {
  .scheme = "postgresql",
  .open = pg_open,
  .close = pg_close,
  .end_startup = pg_end_startup,
  .attach_loop = pg_attach_loop,
  .detach_loop = pg_detach_loop,
  .lookup = pg_lookup,
  .claim = pg_claim,
  .release = pg_release,
  .create_account = pg_create_account,
  .find_account = pg_find_account,
  .health = pg_health,
  .read_key_check = pg_read_key_check,
  .store_key_check = pg_store_key_check,
  .verify_key_later = pg_verify_key_later,
  .set_binding_ttl = pg_set_binding_ttl,
  .admin = &backend_pg_admin_ops,
};
