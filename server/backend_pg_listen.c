/* LISTEN from a thread of its own; see backend_pg_listen.h. The thread
 * sleeps in poll() on the connection's socket and a pipe that stop()
 * writes to; a notification is delivered as soon as its transaction
 * commits. A lost connection is made again; as notifications sent
 * meanwhile are lost, the callback then hears NULL ("forget everything"). */
#include "backend_pg_listen.h"

#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000

struct pg_listener {
  char *channel;
  pg_connect_fn *connect;
  void *connect_userdata;
  pg_notified_fn *notified;
  void *userdata;
  int stop_pipe[2]; /* stop() writes; the thread's poll wakes */
  pthread_t thread;
};

/* Waits up to ms for fd to be readable (-1: no fd) or for stop: true
 * when stopping. */
static bool wait_for(struct pg_listener *listener, int fd, int ms, bool *out_readable)
{
  struct pollfd fds[2] = {{.fd = listener->stop_pipe[0], .events = POLLIN},
                          {.fd = fd, .events = POLLIN}};
  int n = poll(fds, fd >= 0 ? 2 : 1, ms);

  if (out_readable)
    *out_readable = n > 0 && fd >= 0 && fds[1].revents;
  return n > 0 && fds[0].revents;
}

static bool subscribe(struct pg_listener *listener, PGconn *conn)
{
  char *channel = PQescapeIdentifier(conn, listener->channel, strlen(listener->channel));
  _cleanup_free_ char *sql = channel ? xasprintf("LISTEN %s", channel) : NULL;
  PGresult *res = sql ? PQexec(conn, sql) : NULL;
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

  if (!ok)
    log_warn("database: cannot LISTEN: %s", PQerrorMessage(conn));
  PQclear(res);
  PQfreemem(channel);
  return ok;
}

/* Delivers notifications until the link fails (false) or stop (true). */
static bool listen_on(struct pg_listener *listener, PGconn *conn)
{
  for (;;) {
    PGnotify *note;
    bool readable = false;

    if (wait_for(listener, PQsocket(conn), -1, &readable))
      return true;
    if (readable && !PQconsumeInput(conn))
      return false;
    while ((note = PQnotifies(conn))) {
      listener->notified(note->extra, listener->userdata);
      PQfreemem(note);
    }
    if (PQstatus(conn) != CONNECTION_OK)
      return false;
  }
}

static void *run(void *arg)
{
  struct pg_listener *listener = arg;
  int backoff = BACKOFF_MIN_MS;
  bool stopping = false;

  while (!stopping) {
    PGconn *conn = listener->connect(listener->connect_userdata);

    if (conn && PQstatus(conn) == CONNECTION_OK && subscribe(listener, conn)) {
      backoff = BACKOFF_MIN_MS;
      listener->notified(NULL, listener->userdata); /* anything missed meanwhile */
      stopping = listen_on(listener, conn);
      if (!stopping)
        log_warn("database: lost the connection that hears of revocations; making it again");
    }
    PQfinish(conn);
    if (!stopping)
      stopping = wait_for(listener, -1, backoff, NULL);
    backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
  }
  return NULL;
}

struct pg_listener *pg_listener_start(const char *channel, pg_connect_fn *connect,
                                      void *connect_userdata, pg_notified_fn *notified,
                                      void *userdata)
{
  struct pg_listener *listener = xcalloc(1, sizeof *listener);

  listener->channel = xstrdup(channel);
  listener->connect = connect;
  listener->connect_userdata = connect_userdata;
  listener->notified = notified;
  listener->userdata = userdata;
  if (pipe2(listener->stop_pipe, O_CLOEXEC) < 0 ||
      pthread_create(&listener->thread, NULL, run, listener) != 0) {
    log_err("cannot start listening for revocations: %s", strerror(errno));
    if (listener->stop_pipe[0] > 0) {
      close(listener->stop_pipe[0]);
      close(listener->stop_pipe[1]);
    }
    free(listener->channel);
    free(listener);
    return NULL;
  }
  return listener;
}

void pg_listener_stop(struct pg_listener *listener)
{
  if (!listener)
    return;
  while (write(listener->stop_pipe[1], "x", 1) < 0 && errno == EINTR)
    ;
  pthread_join(listener->thread, NULL);
  close(listener->stop_pipe[0]);
  close(listener->stop_pipe[1]);
  free(listener->channel);
  free(listener);
}
