/* phonebind-registry: the seed's "first server". Opens the backend and the
 * terminal-id key, then runs one libevent loop with its own evhttp per
 * thread, all accepting on the process's one listening socket; the main
 * thread's loop also takes the signals and leads the shutdown. */
#include "account_cache.h"
#include "admin.h"
#include "admin_socket.h"
#include "backend_admin.h"
#include "backend.h"
#include "config.h"
#include "connections.h"
#include "hash.h"
#include "http.h"
#include "throttle.h"
#include "listener.h"
#include "log.h"
#include "terminal_key.h"
#include "tls.h"
#include "uri_mask.h"
#include "version.h"
#include "xalloc.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct worker {
  struct event_base *base;
  struct evhttp *http;
  struct evhttp_bound_socket *socket;
  int fd;             /* this thread's dup() of the listening socket */
  struct event *stop; /* activated by the main thread, run by this one */
  struct backend *backend;
  struct connections *connections;
  pthread_t thread;
};

struct server {
  struct registry registry;
  int listen_fd; /* the process's one listening socket */
  struct worker *workers;
  int worker_count;
  struct event *sigterm, *sigint, *sighup;
  struct admin_context admin_ctx;    /* what the admin socket's commands work on */
  struct admin_socket *admin;        /* SQLite only: see admin_socket.h */
  struct backend_watch *revocations; /* PostgreSQL: other processes' revocations */
};

/* evhttp turns reading off and writing on for every answer, and back
 * again: with the changelist the changes of one loop iteration are merged
 * before they reach the kernel (strace: 2 epoll_ctl per request, not 4).
 * The changelist mishandles a dup()ed fd closed before its deferred
 * EPOLL_CTL_DEL is applied (epoll watches the open file, which the other
 * dups keep alive): so each thread's dup of the listening socket is
 * closed only after every loop has ended. */
static struct event_base *new_worker_base(void)
{
  struct event_config *config = event_config_new();
  struct event_base *base;

  if (!config)
    return NULL;
  event_config_set_flag(config, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  base = event_base_new_with_config(config);
  event_config_free(config);
  return base;
}

/* Runs in the worker's own thread: evhttp and its listener are not
 * thread-safe, so only their thread may remove the listener. Stop
 * accepting at once; give answers already being written a moment to leave
 * before the loop ends. Handlers answer within their callback, so no
 * request is cut in the middle. */
static void on_worker_stop(evutil_socket_t fd, short events, void *arg)
{
  const struct timeval grace = {0, 200000};
  struct worker *worker = arg;

  (void)fd;
  (void)events;
  connections_stop(worker->connections);
  if (worker->socket)
    evhttp_del_accept_socket(worker->http, worker->socket);
  worker->socket = NULL;
  event_base_loopexit(worker->base, &grace);
}

/* Each thread accepts on its own dup() of the one listening socket, with
 * a listener that does not close it (see new_worker_base). */
static int worker_start(struct worker *worker, struct registry *registry, int listen_fd)
{
  struct evconnlistener *listener;
  int r;

  worker->fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 0);
  if (worker->fd < 0)
    return -errno;
  worker->base = new_worker_base();
  worker->http = worker->base ? evhttp_new(worker->base) : NULL;
  if (!worker->http)
    return -ENOMEM;
  http_configure(worker->http, registry);
  worker->backend = registry->backend;
  r = backend_attach_loop(worker->backend, worker->base);
  if (r < 0)
    return r;
  worker->stop = event_new(worker->base, -1, 0, on_worker_stop, worker);
  if (!worker->stop)
    return -ENOMEM;
  listener = evconnlistener_new(worker->base, NULL, NULL, 0, 0, worker->fd);
  if (!listener)
    return -ENOMEM;
  worker->socket = evhttp_bind_listener(worker->http, listener);
  if (!worker->socket) {
    evconnlistener_free(listener);
    return -ENOMEM;
  }
  worker->connections = connections_new(worker->base, worker->http, listener,
                                        registry->connections_per_thread, registry->tls);
  return 0;
}

/* The backend lets go of this loop in its own thread, while the requests
 * it still holds can be answered (before evhttp_free). */
static void worker_loop(struct worker *worker)
{
  event_base_dispatch(worker->base);
  backend_detach_loop(worker->backend, worker->base);
}

static void *worker_run(void *arg)
{
  worker_loop(arg);
  return NULL;
}

/* event_active() is the one call into another thread's loop that is
 * thread-safe (evthread_use_pthreads). */
static void server_stop(struct server *server)
{
  for (int i = 0; i < server->worker_count; i++)
    event_active(server->workers[i].stop, 0, 0);
}

static void on_signal(evutil_socket_t signo, short events, void *arg)
{
  (void)events;
  if (signo == SIGHUP) {
    struct server *server = arg;
    if (server->registry.tls)
      tls_reload(server->registry.tls);
    else
      log_info("SIGHUP: nothing to reload; restart to change settings");
    return;
  }
  log_info("%s: shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
  server_stop(arg);
}

/* A key checked late and refused: the registry stops as if it had not
 * started (exit status 1). */
static atomic_bool key_refused;

static void on_key_refused(void)
{
  atomic_store(&key_refused, true);
  kill(getpid(), SIGTERM);
}

static void verify_key_later(struct backend *backend, const uint8_t key[TERMINAL_KEY_LEN])
{
  uint8_t check[HASH_SHA256_LEN];

  terminal_key_check_value(key, check);
  backend->ops->verify_key_later(backend, check, on_key_refused);
}

static int open_registry(struct registry *registry, const struct registry_config *config)
{
  _cleanup_free_ char *key_path = registry_config_key_file(config);
  uint8_t terminal_key[TERMINAL_KEY_LEN];
  int r;

  r = tls_open(config->tls_cert, config->tls_key, &registry->tls);
  if (r < 0)
    return r;
  registry->throttle = throttle_new(config, &registry->connections_per_thread);
  registry->accounts = account_cache_new();
  r = backend_open_uri(config->database, &registry->backend);
  if (r < 0) {
    _cleanup_free_ char *shown = uri_mask_credentials(config->database);
    log_err("cannot open database %s: %s", shown,
            r == -EPROTONOSUPPORT ? "unsupported scheme" : strerror(-r));
    return r;
  }
  r = terminal_key_open(registry->backend, key_path, terminal_key);
  if (r < 0)
    return r;
  registry->terminal_mac = hash_hmac_key_new(terminal_key, sizeof terminal_key);
  registry->binding_ttl_s = config->binding_ttl_s;
  if (config->binding_ttl_s && !registry->backend->ops->set_binding_ttl) {
    log_err("binding-ttl: the %s backend cannot let bindings lapse",
            registry->backend->ops->scheme);
    explicit_bzero(terminal_key, sizeof terminal_key);
    return -EOPNOTSUPP;
  }
  backend_set_binding_ttl(registry->backend, config->binding_ttl_s * 1000);
  if (r == TERMINAL_KEY_UNVERIFIED)
    verify_key_later(registry->backend, terminal_key);
  else
    backend_end_startup(registry->backend);
  explicit_bzero(terminal_key, sizeof terminal_key);
  return 0;
}

/* Events before their base, the base before the fd it watched. */
static void server_free(struct server *server)
{
  admin_socket_free(server->admin);
  if (server->revocations)
    server->registry.backend->ops->admin->unwatch(server->revocations);
  if (server->sigterm)
    event_free(server->sigterm);
  if (server->sigint)
    event_free(server->sigint);
  if (server->sighup)
    event_free(server->sighup);
  for (int i = 0; i < server->worker_count; i++) {
    struct worker *worker = &server->workers[i];
    if (worker->stop)
      event_free(worker->stop);
    if (worker->backend) /* again: a start that failed never ran the loop */
      backend_detach_loop(worker->backend, worker->base);
    connections_stop(worker->connections);
    if (worker->http)
      evhttp_free(worker->http);
    connections_free(worker->connections);
    if (worker->base)
      event_base_free(worker->base);
    if (worker->fd >= 0)
      close(worker->fd);
  }
  free(server->workers);
  if (server->listen_fd >= 0)
    close(server->listen_fd);
  backend_close(server->registry.backend);
  account_cache_free(server->registry.accounts);
  hash_hmac_key_free(server->registry.terminal_mac);
  tls_free(server->registry.tls);
  throttle_free(server->registry.throttle);
}

static const char *listen_error(int r)
{
  if (r == -EINVAL)
    return "expected ADDR:PORT";
  if (r == -EADDRINUSE)
    return "address already in use (another registry or program listens there)";
  return strerror(-r);
}

static void forget_revoked(const char *account, void *accounts)
{
  account_cache_forget_account(accounts, account);
}

/* A revocation made by another process (an admin command on PostgreSQL)
 * reaches this one's token cache. */
static int watch_revocations(struct server *server)
{
  struct backend *backend = server->registry.backend;
  const struct backend_admin_ops *admin = backend->ops->admin;

  if (!admin || !admin->watch_revocations)
    return 0;
  return admin->watch_revocations(backend, forget_revoked, server->registry.accounts,
                                  &server->revocations);
}

/* SQLite's file is this process's alone: support commands come to it.
 * Another registry answering on the socket is refused; any other failure
 * only means the commands must wait until it stops. */
static int open_admin_socket(struct server *server, const struct registry_config *config,
                             struct event_base *base)
{
  const char *database = backend_uri_sqlite_path(config->database);
  _cleanup_free_ char *path = database ? admin_socket_path(database) : NULL;
  int r;

  if (!database)
    return 0;
  server->admin_ctx = (struct admin_context){.backend = server->registry.backend,
                                             .terminal_mac = server->registry.terminal_mac,
                                             .accounts = server->registry.accounts};
  r = admin_socket_open(base, path, &server->admin_ctx, &server->admin);
  if (r == -EADDRINUSE) {
    log_err("another registry answers on %s: it serves this database", path);
    return r;
  }
  if (r < 0)
    log_warn("no admin socket at %s (%s): admin commands only while the registry is stopped", path,
             strerror(-r));
  return 0;
}

static int server_start(struct server *server, const struct registry_config *config)
{
  struct event_base *main_base;
  int r;

  server->listen_fd = listener_open(config->listen);
  if (server->listen_fd < 0) {
    log_err("cannot listen on %s: %s", config->listen, listen_error(server->listen_fd));
    return server->listen_fd;
  }
  server->worker_count = config->threads;
  server->workers = xcalloc((size_t)config->threads, sizeof *server->workers);
  for (int i = 0; i < config->threads; i++)
    server->workers[i].fd = -1;
  for (int i = 0; i < config->threads; i++) {
    r = worker_start(&server->workers[i], &server->registry, server->listen_fd);
    if (r < 0) {
      log_err("cannot start HTTP thread %d: %s", i, strerror(-r));
      return r;
    }
  }
  main_base = server->workers[0].base;
  server->sigterm = evsignal_new(main_base, SIGTERM, on_signal, server);
  server->sigint = evsignal_new(main_base, SIGINT, on_signal, server);
  server->sighup = evsignal_new(main_base, SIGHUP, on_signal, server);
  evsignal_add(server->sigterm, NULL);
  evsignal_add(server->sigint, NULL);
  evsignal_add(server->sighup, NULL);
  return open_admin_socket(server, config, main_base);
}

static int server_run(struct server *server)
{
  for (int i = 1; i < server->worker_count; i++)
    if (pthread_create(&server->workers[i].thread, NULL, worker_run, &server->workers[i]) != 0)
      log_fatal("cannot start HTTP thread %d", i);
  worker_loop(&server->workers[0]);
  for (int i = 1; i < server->worker_count; i++)
    pthread_join(server->workers[i].thread, NULL);
  return 0;
}

int main(int argc, char **argv)
{
  struct registry_config config;
  struct server server = {.listen_fd = -1};
  int r, args_at = argc;

  log_init("phonebind-registry");
  r = registry_config_parse_args(argc, argv, &config, &args_at);
  if (r == 0 && args_at < argc && strcmp(argv[args_at], "admin") != 0) {
    log_err("unexpected argument \"%s\"", argv[args_at]);
    r = -1;
  }
  if (r != 0) {
    registry_config_clear(&config);
    return r > 0 ? 0 : 2;
  }
  if (args_at < argc) {
    log_set_max_level(config.log_level);
    umask(077);
    r = admin_main(&config, argv + args_at + 1, (size_t)(argc - args_at - 1));
    registry_config_clear(&config);
    return r;
  }
  log_set_max_level(config.log_level);
  umask(077);
  signal(SIGPIPE, SIG_IGN);
  evthread_use_pthreads();
  r = open_registry(&server.registry, &config);
  if (r == 0)
    r = watch_revocations(&server);
  if (r == 0)
    r = server_start(&server, &config);
  if (r == 0) {
    _cleanup_free_ char *shown = uri_mask_credentials(config.database);
    log_info("phonebind-registry %s listening on %s (%d thread%s), database %s", PHONEBIND_VERSION,
             config.listen, config.threads, config.threads == 1 ? "" : "s", shown);
    server_run(&server);
    log_info("stopped");
  }
  server_free(&server);
  registry_config_clear(&config);
  return r == 0 && !atomic_load(&key_refused) ? 0 : 1;
}
