/* Accepting for one HTTP thread; see connections.h. Everything here runs
 * in that thread: no locks.
 *
 * evhttp has no hook for "connection accepted" or "closed" of its own
 * (libevent 2.1), only the bufferevent callback and a connection's close
 * callback. The bufferevent is made first and the connection around it
 * afterwards, so each new bufferevent is held (a reference of ours) and
 * adopted from the loop right after: by then it carries its connection as
 * its callback argument, and the close callback goes on that. One evhttp
 * freed meanwhile (it could not set the connection up) has cleared the
 * bufferevent's callbacks: then it is counted as closed at once. */
#include "connections.h"

#include "log.h"
#include "tls.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define ACCEPT_PAUSE_MS 500 /* after an accept error; nginx rests as long */
#define SPARE_FDS 64        /* beyond the connections: database, logs, key, the loop's own */

struct adoption {
  struct bufferevent *bev; /* one reference ours */
  struct adoption *next;
};

struct connections {
  struct connections *next;        /* in every_listener */
  struct evconnlistener *listener; /* NULL once stopped */
  struct tls *tls;
  struct event *adopt, *resume;
  struct adoption *pending;
  unsigned open, max;
  bool full;        /* at max: the listener rests until one closes */
  bool failing;     /* accept failed: the listener rests until resume */
  time_t warned_at; /* a flood must not flood the log too: once a minute */
  unsigned pauses;  /* since then */
};

/* A listener's error callback gets the accept callback's argument, which
 * is evhttp's: the connections that own a listener are looked up here. */
static pthread_mutex_t every_listener_lock = PTHREAD_MUTEX_INITIALIZER;
static struct connections *every_listener;

static struct connections *of_listener(const struct evconnlistener *listener)
{
  struct connections *found;

  pthread_mutex_lock(&every_listener_lock);
  for (found = every_listener; found && found->listener != listener; found = found->next)
    ;
  pthread_mutex_unlock(&every_listener_lock);
  return found;
}

static void set_listening(struct connections *connections)
{
  if (!connections->listener)
    return;
  if (connections->full || connections->failing)
    evconnlistener_disable(connections->listener);
  else
    evconnlistener_enable(connections->listener);
}

static void connection_gone(struct connections *connections)
{
  connections->open--;
  if (connections->full && connections->open < connections->max) {
    connections->full = false;
    set_listening(connections);
  }
}

static void on_closed(struct evhttp_connection *evcon, void *arg)
{
  (void)evcon;
  connection_gone(arg);
}

static void adopt_one(struct connections *connections, struct bufferevent *bev)
{
  void *evcon = NULL;

  bufferevent_getcb(bev, NULL, NULL, NULL, &evcon);
  if (evcon)
    evhttp_connection_set_closecb(evcon, on_closed, connections);
  else
    connection_gone(connections);
  bufferevent_decref(bev);
}

static void on_adopt(evutil_socket_t fd, short events, void *arg)
{
  struct connections *connections = arg;
  struct adoption *adoption;

  (void)fd;
  (void)events;
  while ((adoption = connections->pending)) {
    connections->pending = adoption->next;
    adopt_one(connections, adoption->bev);
    free(adoption);
  }
}

static struct bufferevent *new_connection(struct event_base *base, void *arg)
{
  struct connections *connections = arg;
  struct adoption *adoption = xmalloc(sizeof *adoption);
  struct bufferevent *bev = connections->tls
                              ? tls_new_bufferevent(connections->tls, base)
                              : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);

  if (!bev) { /* NULL would make evhttp make one uncounted */
    log_err("out of memory for a connection");
    abort();
  }
  bufferevent_incref(bev);
  *adoption = (struct adoption){.bev = bev, .next = connections->pending};
  connections->pending = adoption;
  event_active(connections->adopt, 0, 0);
  if (++connections->open >= connections->max && !connections->full) {
    connections->full = true;
    set_listening(connections);
  }
  return bev;
}

/* EMFILE, ENFILE, ENOBUFS, ENOMEM: the socket stays readable, so going on
 * at once would spin. Rest, then try again. */
static void on_accept_error(struct evconnlistener *listener, void *http)
{
  const struct timeval pause = {0, ACCEPT_PAUSE_MS * 1000};
  int error = errno;
  struct connections *connections = of_listener(listener);

  (void)http;
  if (!connections)
    return;
  connections->pauses++;
  if (time(NULL) - connections->warned_at >= 60) {
    log_warn(
      "cannot accept connections: %s (%u open on this thread); paused %u time%s for %d ms "
      "(said at most once a minute)",
      strerror(error), connections->open, connections->pauses, connections->pauses == 1 ? "" : "s",
      ACCEPT_PAUSE_MS);
    connections->warned_at = time(NULL);
    connections->pauses = 0;
  }
  connections->failing = true;
  set_listening(connections);
  evtimer_add(connections->resume, &pause);
}

static void on_resume(evutil_socket_t fd, short events, void *arg)
{
  struct connections *connections = arg;

  (void)fd;
  (void)events;
  connections->failing = false;
  set_listening(connections);
}

struct connections *connections_new(struct event_base *base, struct evhttp *http,
                                    struct evconnlistener *listener, unsigned max, struct tls *tls)
{
  struct connections *connections = xcalloc(1, sizeof *connections);

  connections->listener = listener;
  connections->tls = tls;
  connections->max = max ? max : 1;
  connections->adopt = event_new(base, -1, 0, on_adopt, connections);
  connections->resume = evtimer_new(base, on_resume, connections);
  if (!connections->adopt || !connections->resume) {
    log_err("out of memory for the listener's events");
    abort();
  }
  pthread_mutex_lock(&every_listener_lock);
  connections->next = every_listener;
  every_listener = connections;
  pthread_mutex_unlock(&every_listener_lock);
  evconnlistener_set_error_cb(listener, on_accept_error);
  evhttp_set_bevcb(http, new_connection, connections);
  return connections;
}

void connections_stop(struct connections *connections)
{
  if (!connections)
    return;
  pthread_mutex_lock(&every_listener_lock);
  connections->listener = NULL;
  for (struct connections **p = &every_listener; *p; p = &(*p)->next)
    if (*p == connections) {
      *p = connections->next;
      break;
    }
  pthread_mutex_unlock(&every_listener_lock);
  evtimer_del(connections->resume);
}

void connections_free(struct connections *connections)
{
  if (!connections)
    return;
  /* evhttp has let go of these bufferevents (or will never have them) */
  while (connections->pending) {
    struct adoption *adoption = connections->pending;
    connections->pending = adoption->next;
    bufferevent_decref(adoption->bev);
    free(adoption);
  }
  event_free(connections->adopt);
  event_free(connections->resume);
  free(connections);
}

void connections_reserve_fds(unsigned max_connections)
{
  struct rlimit limit;
  rlim_t want = (rlim_t)max_connections + SPARE_FDS;

  if (getrlimit(RLIMIT_NOFILE, &limit) < 0 || limit.rlim_cur >= want)
    return;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY || limit.rlim_max > want ? want : limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
    getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < want)
    log_warn(
      "only %llu open files allowed (ulimit -n): fewer than max-connections %u needs; "
      "beyond it accepting pauses",
      (unsigned long long)limit.rlim_cur, max_connections);
}
