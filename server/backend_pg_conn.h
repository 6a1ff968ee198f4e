/* One asynchronous PostgreSQL connection, driven by a thread's libevent
 * loop: connected with PQconnectStartParams/PQconnectPoll, then in
 * pipeline mode with every statement prepared, queries sent with
 * PQsendQueryPrepared and a sync each (each its own transaction), answers
 * read with PQconsumeInput/PQisBusy/PQgetResult as the socket becomes
 * readable. Nothing here blocks.
 *
 * A request is answered when its sync comes back: for a write that is the
 * commit, so an answer of success means committed. A request whose answer
 * the connection lost (closed, broken, timed out) is answered with no
 * result and BACKEND_UNKNOWN when it was a write (it may have committed),
 * else BACKEND_UNAVAILABLE. */
#pragma once

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "backend.h"
#include "backend_pg_schema.h"

#define PG_REQUEST_PARAMS 5

struct pg_request;

/* res is NULL when error is set; it is cleared after the call. */
typedef void pg_request_done_fn(struct pg_request *request, PGresult *res, int error);

/* A query and who waits for it; owned by the backend's request code and
 * lent to a connection until done is called. */
struct pg_request {
  TAILQ_ENTRY(pg_request) link;
  enum pg_statement statement;
  bool write;          /* its loss leaves the outcome unknown */
  int64_t deadline_us; /* CLOCK_MONOTONIC: answered BACKEND_UNAVAILABLE/UNKNOWN by then */
  const char *values[PG_REQUEST_PARAMS];
  int lengths[PG_REQUEST_PARAMS];
  int formats[PG_REQUEST_PARAMS];
  unsigned retry_after_s; /* set with BACKEND_UNAVAILABLE by the pool */
  pg_request_done_fn *done;
};

TAILQ_HEAD(pg_request_list, pg_request);

struct pg_conn;
struct event_base;

struct pg_conn_events {
  void (*ready)(struct pg_conn *conn, void *userdata); /* connected, prepared */
  /* Closed (a failed attempt, a broken connection, a timeout): requests
   * in flight have been answered. message says why, for the log. */
  void (*lost)(struct pg_conn *conn, const char *message, void *userdata);
};

/* keywords/values: PQconnectStartParams's, with expand_dbname; borrowed
 * for the connection's life. */
struct pg_conn *pg_conn_new(struct event_base *base, const char *const *keywords,
                            const char *const *values, const struct pg_conn_events *events,
                            void *userdata);
/* Closes it, answering what is in flight, without calling lost. */
void pg_conn_free(struct pg_conn *conn);

/* Starts an attempt to connect, which ends in ready or lost. 0, or -errno
 * (then nothing is pending and lost is not called). */
int pg_conn_connect(struct pg_conn *conn);
bool pg_conn_is_ready(const struct pg_conn *conn);
bool pg_conn_is_connecting(const struct pg_conn *conn);
size_t pg_conn_in_flight(const struct pg_conn *conn);
/* Sends a request on a ready connection: 0 and it is answered later, or
 * -errno and it was not taken (the connection is being lost then). */
int pg_conn_send(struct pg_conn *conn, struct pg_request *request);

/* CLOCK_MONOTONIC in microseconds. */
int64_t pg_monotonic_us(void);
