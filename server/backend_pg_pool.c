/* A thread's PostgreSQL connections; see backend_pg_pool.h. */
#include "backend_pg_pool.h"

#include "log.h"
#include "xalloc.h"

#include <event2/event.h>
#include <stdlib.h>

#define BACKOFF_FIRST_MS 50
#define BACKOFF_MAX_MS 2000
#define PIPELINE_MAX 256 /* beyond this a connection is full: overload is a 503 */

struct pg_pool;

struct slot {
  struct pg_pool *pool;
  struct pg_conn *conn;
  struct event *retry;
  unsigned backoff_ms; /* the next wait after a failure */
  int64_t retry_at_us; /* when the retry timer fires, while it is pending */
  bool was_ready;      /* since its last loss: a lost link, not a failed attempt */
};

struct pg_pool {
  struct event_base *base;
  struct pg_pool_shared *shared;
  struct slot slots[PG_POOL_MAX];
  int size;
  struct pg_request_list waiting; /* for a connection, oldest first */
  struct event *waiting_deadline;
  struct event *start; /* activated from another thread by pg_pool_start */
  bool closing;
};

static void answer_unavailable(struct pg_request *request, unsigned retry_after_s)
{
  request->retry_after_s = retry_after_s;
  request->done(request, NULL, BACKEND_UNAVAILABLE);
}

/* Seconds until the first retry, at least 1: the Retry-After to give. */
static unsigned retry_after(const struct pg_pool *pool)
{
  int64_t now = pg_monotonic_us(), soonest = INT64_MAX;

  for (int i = 0; i < pool->size; i++)
    if (event_pending(pool->slots[i].retry, EV_TIMEOUT, NULL) &&
        pool->slots[i].retry_at_us < soonest)
      soonest = pool->slots[i].retry_at_us;
  if (soonest == INT64_MAX || soonest <= now)
    return 1;
  return (unsigned)((soonest - now + 999999) / 1000000);
}

static struct pg_conn *least_busy_ready(const struct pg_pool *pool)
{
  struct pg_conn *best = NULL;

  for (int i = 0; i < pool->size; i++) {
    struct pg_conn *conn = pool->slots[i].conn;
    if (pg_conn_is_ready(conn) && pg_conn_in_flight(conn) < PIPELINE_MAX &&
        (!best || pg_conn_in_flight(conn) < pg_conn_in_flight(best)))
      best = conn;
  }
  return best;
}

static bool any_connecting(const struct pg_pool *pool)
{
  for (int i = 0; i < pool->size; i++)
    if (pg_conn_is_connecting(pool->slots[i].conn))
      return true;
  return false;
}

static void arm_waiting_deadline(struct pg_pool *pool)
{
  struct pg_request *oldest = TAILQ_FIRST(&pool->waiting);
  int64_t left;
  struct timeval tv;

  if (!oldest) {
    event_del(pool->waiting_deadline);
    return;
  }
  left = oldest->deadline_us - pg_monotonic_us();
  if (left < 0)
    left = 0;
  tv = (struct timeval){(time_t)(left / 1000000), (suseconds_t)(left % 1000000)};
  event_add(pool->waiting_deadline, &tv);
}

static void on_waiting_deadline(evutil_socket_t fd, short events, void *arg)
{
  struct pg_pool *pool = arg;
  struct pg_request *request;
  int64_t now = pg_monotonic_us();

  (void)fd;
  (void)events;
  while ((request = TAILQ_FIRST(&pool->waiting)) && request->deadline_us <= now) {
    TAILQ_REMOVE(&pool->waiting, request, link);
    answer_unavailable(request, retry_after(pool));
  }
  arm_waiting_deadline(pool);
}

/* No connection will come soon: nobody waits any longer. */
static void answer_waiting(struct pg_pool *pool)
{
  struct pg_request_list waiting;
  struct pg_request *request;

  TAILQ_INIT(&waiting);
  TAILQ_CONCAT(&waiting, &pool->waiting, link);
  event_del(pool->waiting_deadline);
  while ((request = TAILQ_FIRST(&waiting))) {
    TAILQ_REMOVE(&waiting, request, link);
    answer_unavailable(request, retry_after(pool));
  }
}

void pg_pool_submit(struct pg_pool *pool, struct pg_request *request)
{
  struct pg_conn *conn;

  if (pool->closing) {
    answer_unavailable(request, 1);
    return;
  }
  while ((conn = least_busy_ready(pool)))
    if (pg_conn_send(conn, request) == 0)
      return;
  if (!any_connecting(pool)) {
    answer_unavailable(request, retry_after(pool));
    return;
  }
  TAILQ_INSERT_TAIL(&pool->waiting, request, link);
  if (TAILQ_FIRST(&pool->waiting) == request)
    arm_waiting_deadline(pool);
}

static void on_ready(struct pg_conn *conn, void *userdata)
{
  struct slot *slot = userdata;
  struct pg_pool *pool = slot->pool;
  struct pg_request *request;

  (void)conn;
  slot->backoff_ms = BACKOFF_FIRST_MS;
  slot->was_ready = true;
  if (atomic_exchange(&pool->shared->lost, 0))
    log_info("database %s: connected again", pool->shared->shown);
  while ((request = TAILQ_FIRST(&pool->waiting)) && (conn = least_busy_ready(pool))) {
    TAILQ_REMOVE(&pool->waiting, request, link);
    if (pg_conn_send(conn, request) < 0)
      TAILQ_INSERT_HEAD(&pool->waiting, request, link);
  }
  arm_waiting_deadline(pool);
}

/* Jittered within [3/4, 5/4] of the backoff, which then doubles. */
static void schedule_retry(struct slot *slot)
{
  unsigned wait_ms = slot->backoff_ms * 3 / 4 + arc4random_uniform(slot->backoff_ms / 2 + 1);
  struct timeval tv = {(time_t)(wait_ms / 1000), (suseconds_t)(wait_ms % 1000) * 1000};

  slot->retry_at_us = pg_monotonic_us() + (int64_t)wait_ms * 1000;
  evtimer_add(slot->retry, &tv);
  slot->backoff_ms = slot->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : slot->backoff_ms * 2;
}

static void on_lost(struct pg_conn *conn, const char *message, void *userdata)
{
  struct slot *slot = userdata;
  struct pg_pool *pool = slot->pool;

  (void)conn;
  if (!atomic_exchange(&pool->shared->lost, 1))
    log_err("database %s: %s %s; answering 503 until it is back", pool->shared->shown,
            slot->was_ready ? "connection lost:" : "cannot connect:", message);
  else
    log_debug("database %s: %s", pool->shared->shown, message);
  slot->was_ready = false;
  if (pool->closing)
    return;
  schedule_retry(slot);
  if (!least_busy_ready(pool) && !any_connecting(pool))
    answer_waiting(pool);
}

static void on_retry(evutil_socket_t fd, short events, void *arg)
{
  struct slot *slot = arg;

  (void)fd;
  (void)events;
  if (pg_conn_connect(slot->conn) < 0)
    schedule_retry(slot);
}

static void on_start(evutil_socket_t fd, short events, void *arg)
{
  struct pg_pool *pool = arg;

  (void)fd;
  (void)events;
  for (int i = 0; i < pool->size; i++) {
    struct slot *slot = &pool->slots[i];
    if (!pg_conn_is_ready(slot->conn) && !pg_conn_is_connecting(slot->conn) &&
        !event_pending(slot->retry, EV_TIMEOUT, NULL) && pg_conn_connect(slot->conn) < 0)
      schedule_retry(slot);
  }
}

/* event_active() is the one call into another thread's loop that is
 * thread-safe (evthread_use_pthreads). */
void pg_pool_start(struct pg_pool *pool)
{
  event_active(pool->start, EV_TIMEOUT, 0);
}

static const struct pg_conn_events conn_events = {
  .ready = on_ready,
  .lost = on_lost,
};

struct pg_pool *pg_pool_new(struct event_base *base, const char *const *keywords,
                            const char *const *values, int size, struct pg_pool_shared *shared,
                            bool connect)
{
  struct pg_pool *pool = xcalloc(1, sizeof *pool);

  pool->base = base;
  pool->shared = shared;
  pool->size = size < 1 ? 1 : size > PG_POOL_MAX ? PG_POOL_MAX : size;
  TAILQ_INIT(&pool->waiting);
  pool->waiting_deadline = evtimer_new(base, on_waiting_deadline, pool);
  pool->start = event_new(base, -1, 0, on_start, pool);
  for (int i = 0; i < pool->size; i++) {
    struct slot *slot = &pool->slots[i];
    slot->pool = pool;
    slot->backoff_ms = BACKOFF_FIRST_MS;
    slot->conn = pg_conn_new(base, keywords, values, &conn_events, slot);
    slot->retry = evtimer_new(base, on_retry, slot);
    if (!slot->retry || !pool->waiting_deadline || !pool->start)
      log_fatal("out of memory");
  }
  if (connect)
    on_start(-1, 0, pool);
  return pool;
}

void pg_pool_free(struct pg_pool *pool)
{
  if (!pool)
    return;
  pool->closing = true;
  answer_waiting(pool);
  for (int i = 0; i < pool->size; i++) {
    pg_conn_free(pool->slots[i].conn);
    event_free(pool->slots[i].retry);
  }
  event_free(pool->waiting_deadline);
  event_free(pool->start);
  free(pool);
}
