/* A thread's few PostgreSQL connections (backend_pg_conn.h): requests go
 * to the ready one with the fewest in flight; while none is ready but
 * one is connecting they wait (until their deadline); while none is even
 * connecting they are answered BACKEND_UNAVAILABLE at once. A lost
 * connection is tried again after a backoff (50 ms doubling to 2 s, with
 * jitter); libpq's multi-host URIs with target_session_attrs=read-write
 * find the new primary after a failover. */
#pragma once

#include <stdatomic.h>

#include "backend_pg_conn.h"

#define PG_POOL_MAX 8

/* What every pool of one backend shares: the database as logs name it,
 * and whether it was last seen lost (the log says so once, and once when
 * it is back). */
struct pg_pool_shared {
  const char *shown;
  atomic_int lost;
};

struct pg_pool;

/* keywords/values as for pg_conn_new; borrowed, as is shared. Connects
 * at once when connect is set, else from pg_pool_start. */
struct pg_pool *pg_pool_new(struct event_base *base, const char *const *keywords,
                            const char *const *values, int size, struct pg_pool_shared *shared,
                            bool connect);
/* From any thread: the pool's loop starts connecting what is idle. */
void pg_pool_start(struct pg_pool *pool);
/* Closes every connection, answering every request. */
void pg_pool_free(struct pg_pool *pool);

/* Sends the request, or has it wait, or answers it at once (with
 * retry_after_s set for BACKEND_UNAVAILABLE). */
void pg_pool_submit(struct pg_pool *pool, struct pg_request *request);
