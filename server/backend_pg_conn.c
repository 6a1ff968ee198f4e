/* One asynchronous PostgreSQL connection; see backend_pg_conn.h.
 *
 * The pipeline holds, in order: at first the batch that prepares every
 * statement (one sync), then one entry per request (its query and a
 * sync). libpq hands back each command's results, a NULL after them, and
 * PGRES_PIPELINE_SYNC at each sync; a request is answered at its sync,
 * which for an implicit transaction is after its commit. */
#include "backend_pg_conn.h"

#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONNECT_TIMEOUT_S 5

enum conn_state {
  CONN_IDLE,
  CONN_CONNECTING, /* PQconnectPoll, then the prepare batch */
  CONN_READY,
};

struct pg_conn {
  struct event_base *base;
  const char *const *keywords, *const *values;
  const struct pg_conn_events *events;
  void *userdata;
  PGconn *pg;
  enum conn_state state;
  bool preparing;         /* the prepare batch's sync has not come back yet */
  bool broken;            /* to be closed from the deferred event */
  struct event *io;       /* connecting: the direction PQconnectPoll wants; then EV_READ */
  struct event *writable; /* while libpq holds output the socket did not take */
  struct event *deadline; /* the connect's, or the oldest request's */
  struct event *deferred; /* flushes what this iteration sent; closes a broken one */
  struct pg_request_list in_flight;
  size_t count;
  PGresult *held;      /* the oldest request's result, until its sync */
  unsigned generation; /* grows at every close: callbacks see whether theirs is gone */
  char why[256];       /* why a deferred close closes */
};

int64_t pg_monotonic_us(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void notice_to_log(void *arg, const char *message)
{
  (void)arg;
  log_debug("database: %.*s", (int)strcspn(message, "\n"), message);
}

static void remember_why(struct pg_conn *conn, const char *why)
{
  snprintf(conn->why, sizeof conn->why, "%.*s", (int)strcspn(why, "\n"), why);
}

static void free_event(struct event **ev)
{
  if (*ev)
    event_free(*ev);
  *ev = NULL;
}

/* Takes the libpq connection down and hands back what was in flight. */
static void conn_reset(struct pg_conn *conn, struct pg_request_list *out_orphans)
{
  TAILQ_INIT(out_orphans);
  TAILQ_CONCAT(out_orphans, &conn->in_flight, link);
  /* The oldest failed before the link went (the server ended the session
   * in its statement): not committed, whatever it was. */
  if (conn->held && PQresultStatus(conn->held) == PGRES_FATAL_ERROR && TAILQ_FIRST(out_orphans))
    TAILQ_FIRST(out_orphans)->write = false;
  conn->count = 0;
  free_event(&conn->io);
  free_event(&conn->writable);
  event_del(conn->deadline);
  event_del(conn->deferred);
  PQclear(conn->held);
  conn->held = NULL;
  if (conn->pg)
    PQfinish(conn->pg);
  conn->pg = NULL;
  conn->state = CONN_IDLE;
  conn->preparing = conn->broken = false;
  conn->generation++;
}

/* A write lost with the connection may have committed; nothing else
 * happened for sure. */
static void answer_orphans(struct pg_request_list *orphans)
{
  struct pg_request *request;

  while ((request = TAILQ_FIRST(orphans))) {
    TAILQ_REMOVE(orphans, request, link);
    request->done(request, NULL, request->write ? BACKEND_UNKNOWN : BACKEND_UNAVAILABLE);
  }
}

/* The owner hears first, so that requests its callbacks make meanwhile
 * do not come back here. */
static void conn_lose(struct pg_conn *conn, const char *why)
{
  struct pg_request_list orphans;
  char message[sizeof conn->why];

  snprintf(message, sizeof message, "%.*s", (int)strcspn(why, "\n"), why);
  conn_reset(conn, &orphans);
  conn->events->lost(conn, message, conn->userdata);
  answer_orphans(&orphans);
}

/* Closing now could pull the connection from under a caller still using
 * it: the deferred event does it once the callbacks of this iteration
 * are done. */
static void conn_break(struct pg_conn *conn, const char *why)
{
  if (!conn->broken)
    remember_why(conn, why);
  conn->broken = true;
  event_active(conn->deferred, EV_TIMEOUT, 0);
}

static void arm_deadline(struct pg_conn *conn)
{
  struct pg_request *oldest = TAILQ_FIRST(&conn->in_flight);
  int64_t left;
  struct timeval tv;

  if (conn->state != CONN_READY)
    return;
  if (!oldest) {
    event_del(conn->deadline);
    return;
  }
  left = oldest->deadline_us - pg_monotonic_us();
  if (left < 0)
    left = 0;
  tv = (struct timeval){(time_t)(left / 1000000), (suseconds_t)(left % 1000000)};
  event_add(conn->deadline, &tv);
}

static void on_deadline(evutil_socket_t fd, short events, void *arg)
{
  struct pg_conn *conn = arg;

  (void)fd;
  (void)events;
  if (conn->state == CONN_CONNECTING)
    conn_lose(conn, "no connection in time");
  else if (conn->state == CONN_READY)
    conn_lose(conn, "no answer in time");
}

/* Sends what libpq holds; keeps EV_WRITE on only while some is left. */
static void conn_flush(struct pg_conn *conn)
{
  int r = PQflush(conn->pg);

  if (r < 0) {
    conn_break(conn, PQerrorMessage(conn->pg));
    return;
  }
  if (r == 1 && !event_pending(conn->writable, EV_WRITE, NULL))
    event_add(conn->writable, NULL);
  else if (r == 0)
    event_del(conn->writable);
}

static void on_deferred(evutil_socket_t fd, short events, void *arg)
{
  struct pg_conn *conn = arg;

  (void)fd;
  (void)events;
  if (conn->broken)
    conn_lose(conn, conn->why);
  else if (conn->pg && conn->writable)
    conn_flush(conn);
}

static void on_writable(evutil_socket_t fd, short events, void *arg)
{
  (void)fd;
  (void)events;
  conn_flush(arg);
}

/* Errors after which this connection is no use: it went read-only (a
 * demoted primary), the server is shutting down, or the link broke. */
static bool is_connection_error(const PGresult *res)
{
  const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

  return state && (strcmp(state, "25006") == 0 || strncmp(state, "57P", 3) == 0 ||
                   strncmp(state, "08", 2) == 0);
}

static void prepared(struct pg_conn *conn, PGresult *res)
{
  ExecStatusType status = PQresultStatus(res);

  if (status == PGRES_PIPELINE_SYNC) {
    PQclear(res);
    conn->preparing = false;
    conn->state = CONN_READY;
    event_del(conn->deadline);
    conn->events->ready(conn, conn->userdata);
    return;
  }
  if (status != PGRES_COMMAND_OK)
    conn_break(conn, PQresultErrorMessage(res));
  PQclear(res);
}

/* One of the oldest request's results; at its sync, its answer. */
static void answered(struct pg_conn *conn, PGresult *res)
{
  struct pg_request *request = TAILQ_FIRST(&conn->in_flight);
  PGresult *held;
  bool bad;

  if (PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
    if (!conn->held)
      conn->held = res;
    else
      PQclear(res);
    return;
  }
  PQclear(res);
  TAILQ_REMOVE(&conn->in_flight, request, link);
  conn->count--;
  held = conn->held;
  conn->held = NULL;
  bad = held && is_connection_error(held);
  if (bad)
    conn_break(conn, PQresultErrorMessage(held));
  if (held)
    request->done(request, held, 0);
  else
    request->done(request, NULL, BACKEND_UNKNOWN); /* a sync without a result: never */
  PQclear(held);
}

static void read_results(struct pg_conn *conn)
{
  unsigned generation = conn->generation;
  PGresult *res;

  while (conn->generation == generation && !conn->broken && (conn->preparing || conn->count > 0) &&
         !PQisBusy(conn->pg)) {
    res = PQgetResult(conn->pg);
    if (PQstatus(conn->pg) == CONNECTION_BAD) {
      PQclear(res);
      conn_lose(conn, PQerrorMessage(conn->pg));
      return;
    }
    if (!res)
      continue; /* the end of one command's results */
    if (conn->preparing)
      prepared(conn, res);
    else
      answered(conn, res);
  }
  if (conn->generation == generation)
    arm_deadline(conn);
}

static void on_readable(evutil_socket_t fd, short events, void *arg)
{
  struct pg_conn *conn = arg;

  (void)fd;
  (void)events;
  if (!PQconsumeInput(conn->pg)) {
    conn_lose(conn, PQerrorMessage(conn->pg));
    return;
  }
  read_results(conn);
}

/* Connected: pipeline mode, every statement prepared in one batch. */
static void start_session(struct pg_conn *conn)
{
  int fd = PQsocket(conn->pg);
  bool ok = PQsetnonblocking(conn->pg, 1) == 0 && PQenterPipelineMode(conn->pg) == 1;

  PQsetNoticeProcessor(conn->pg, notice_to_log, NULL);
  for (int i = 0; i < PG_STATEMENT_COUNT && ok; i++)
    ok = PQsendPrepare(conn->pg, pg_statements[i].name, pg_statements[i].sql,
                       pg_statements[i].params, NULL) == 1;
  if (!ok || PQpipelineSync(conn->pg) != 1) {
    conn_lose(conn, PQerrorMessage(conn->pg));
    return;
  }
  free_event(&conn->io);
  conn->io = event_new(conn->base, fd, EV_READ | EV_PERSIST, on_readable, conn);
  conn->writable = event_new(conn->base, fd, EV_WRITE | EV_PERSIST, on_writable, conn);
  event_add(conn->io, NULL);
  conn->preparing = true;
  conn_flush(conn);
}

static void on_connect_io(evutil_socket_t fd, short events, void *arg);

/* libpq may open a new socket for each host it tries: the event follows. */
static void connect_wait(struct pg_conn *conn, PostgresPollingStatusType wants)
{
  free_event(&conn->io);
  conn->io = event_new(conn->base, PQsocket(conn->pg),
                       wants == PGRES_POLLING_READING ? EV_READ : EV_WRITE, on_connect_io, conn);
  event_add(conn->io, NULL);
}

static void connect_step(struct pg_conn *conn, PostgresPollingStatusType status)
{
  switch (status) {
  case PGRES_POLLING_READING:
  case PGRES_POLLING_WRITING:
    connect_wait(conn, status);
    break;
  case PGRES_POLLING_OK:
    start_session(conn);
    break;
  default:
    conn_lose(conn, PQerrorMessage(conn->pg));
  }
}

static void on_connect_io(evutil_socket_t fd, short events, void *arg)
{
  struct pg_conn *conn = arg;

  (void)fd;
  (void)events;
  connect_step(conn, PQconnectPoll(conn->pg));
}

int pg_conn_connect(struct pg_conn *conn)
{
  const struct timeval timeout = {CONNECT_TIMEOUT_S, 0};

  if (conn->state != CONN_IDLE)
    return -EALREADY;
  conn->pg = PQconnectStartParams(conn->keywords, conn->values, 1);
  if (!conn->pg)
    return -ENOMEM;
  conn->state = CONN_CONNECTING;
  event_add(conn->deadline, &timeout);
  if (PQstatus(conn->pg) == CONNECTION_BAD)
    conn_break(conn, PQerrorMessage(conn->pg)); /* told from the loop, as any failure */
  else
    connect_step(conn, PGRES_POLLING_WRITING); /* where PQconnectPoll starts */
  return 0;
}

int pg_conn_send(struct pg_conn *conn, struct pg_request *request)
{
  const struct pg_statement_text *statement = &pg_statements[request->statement];

  if (conn->state != CONN_READY || conn->broken)
    return -ENOTCONN;
  if (PQsendQueryPrepared(conn->pg, statement->name, statement->params, request->values,
                          request->lengths, request->formats, 0) != 1) {
    conn_break(conn, PQerrorMessage(conn->pg)); /* nothing of it queued */
    return -ENOTCONN;
  }
  TAILQ_INSERT_TAIL(&conn->in_flight, request, link);
  conn->count++;
  if (PQpipelineSync(conn->pg) != 1)
    conn_break(conn, PQerrorMessage(conn->pg)); /* answered with the rest */
  else if (!event_pending(conn->deferred, EV_TIMEOUT, NULL))
    event_active(conn->deferred, EV_TIMEOUT, 0); /* one write for this iteration's queries */
  if (conn->count == 1)
    arm_deadline(conn);
  return 0;
}

bool pg_conn_is_ready(const struct pg_conn *conn)
{
  return conn->state == CONN_READY && !conn->broken;
}

bool pg_conn_is_connecting(const struct pg_conn *conn)
{
  return conn->state == CONN_CONNECTING;
}

size_t pg_conn_in_flight(const struct pg_conn *conn)
{
  return conn->count;
}

struct pg_conn *pg_conn_new(struct event_base *base, const char *const *keywords,
                            const char *const *values, const struct pg_conn_events *events,
                            void *userdata)
{
  struct pg_conn *conn = xcalloc(1, sizeof *conn);

  conn->base = base;
  conn->keywords = keywords;
  conn->values = values;
  conn->events = events;
  conn->userdata = userdata;
  TAILQ_INIT(&conn->in_flight);
  conn->deadline = evtimer_new(base, on_deadline, conn);
  conn->deferred = event_new(base, -1, 0, on_deferred, conn);
  if (!conn->deadline || !conn->deferred)
    log_fatal("out of memory");
  return conn;
}

void pg_conn_free(struct pg_conn *conn)
{
  struct pg_request_list orphans;

  if (!conn)
    return;
  conn_reset(conn, &orphans);
  answer_orphans(&orphans);
  event_free(conn->deadline);
  event_free(conn->deferred);
  free(conn);
}
