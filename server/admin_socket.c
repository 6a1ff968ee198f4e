/* The support commands' local socket; see admin_socket.h. */
#include "admin_socket.h"

#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define REQUEST_MAX 8192
#define WORDS_MAX 8
#define CALL_TIMEOUT_S 300 /* a backup of a large database takes a while */

struct connection {
  struct admin_socket *owner;
  struct bufferevent *bev;
  char who[160];
  TAILQ_ENTRY(connection) link;
};

struct admin_socket {
  struct evconnlistener *listener;
  const struct admin_context *ctx;
  char *path;
  TAILQ_HEAD(, connection) connections;
};

char *admin_socket_path(const char *sqlite_path)
{
  return xasprintf("%s-admin.sock", sqlite_path);
}

static int unix_address(const char *path, struct sockaddr_un *out)
{
  *out = (struct sockaddr_un){.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof out->sun_path)
    return -ENAMETOOLONG;
  memcpy(out->sun_path, path, strlen(path) + 1);
  return 0;
}

static int connect_to(const char *path)
{
  struct sockaddr_un addr;
  int r = unix_address(path, &addr), fd;

  if (r < 0)
    return r;
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    r = -errno;
    close(fd);
    return r;
  }
  return fd;
}

static void connection_free(struct connection *conn)
{
  TAILQ_REMOVE(&conn->owner->connections, conn, link);
  bufferevent_free(conn->bev);
  free(conn);
}

static void on_written(struct bufferevent *bev, void *arg)
{
  (void)bev;
  connection_free(arg);
}

static void on_event(struct bufferevent *bev, short events, void *arg)
{
  (void)bev;
  (void)events; /* EOF, an error or the timeout: the client is gone */
  connection_free(arg);
}

static void reply(struct connection *conn, int status, json_t *answer)
{
  json_t *message = json_pack("{s:i, s:o}", "status", status, "answer", answer);
  char *text = json_dumps(message, JSON_COMPACT);

  json_decref(message);
  bufferevent_disable(conn->bev, EV_READ);
  bufferevent_setcb(conn->bev, NULL, on_written, on_event, conn);
  bufferevent_write(conn->bev, text, strlen(text));
  bufferevent_write(conn->bev, "\n", 1);
  free(text);
}

/* {"words": [...], "login": "..."}: the words, borrowed from the JSON. */
static int read_words(json_t *request, const char **words, size_t *out_count)
{
  json_t *array = json_object_get(request, "words"), *word;
  size_t i;

  if (!json_is_array(array) || json_array_size(array) == 0 || json_array_size(array) > WORDS_MAX)
    return -EINVAL;
  json_array_foreach(array, i, word)
  {
    words[i] = json_string_value(word);
    if (!words[i])
      return -EINVAL;
  }
  *out_count = json_array_size(array);
  return 0;
}

static void run_request(struct connection *conn, const char *line)
{
  json_t *request = json_loads(line, 0, NULL), *answer = NULL;
  const char *words[WORDS_MAX];
  const char *login = json_string_value(json_object_get(request, "login"));
  char who[sizeof conn->who + 64];
  size_t count = 0;
  int status;

  if (!request || read_words(request, words, &count) < 0) {
    reply(conn, ADMIN_USAGE,
          json_pack("{s:s, s:s}", "error", "bad-request", "message", "not an admin request"));
    json_decref(request);
    return;
  }
  snprintf(who, sizeof who, "%s%s%.40s", conn->who, login ? ", sudo by " : "", login ? login : "");
  status = admin_exec(conn->owner->ctx, who, (char *const *)words, count, &answer);
  reply(conn, status, answer);
  json_decref(request);
}

static void on_read(struct bufferevent *bev, void *arg)
{
  struct connection *conn = arg;
  struct evbuffer *input = bufferevent_get_input(bev);
  char *line = evbuffer_readln(input, NULL, EVBUFFER_EOL_LF);

  if (line)
    run_request(conn, line);
  else if (evbuffer_get_length(input) > REQUEST_MAX)
    connection_free(conn);
  free(line);
}

/* Who is on the other end, by the kernel's word: root or the registry's
 * own user only (the socket's mode says the same). */
static int peer_of(int fd, char *out, size_t size)
{
  struct ucred cred;
  socklen_t len = sizeof cred;
  struct passwd *pw;

  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
    return -errno;
  if (cred.uid != 0 && cred.uid != geteuid())
    return -EPERM;
  pw = getpwuid(cred.uid);
  snprintf(out, size, "uid %u (%s) pid %d", (unsigned)cred.uid, pw ? pw->pw_name : "?",
           (int)cred.pid);
  return 0;
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *addr,
                      int len, void *arg)
{
  struct admin_socket *sock = arg;
  const struct timeval timeout = {10, 0};
  struct connection *conn = xcalloc(1, sizeof *conn);
  int r = peer_of(fd, conn->who, sizeof conn->who);

  (void)addr;
  (void)len;
  if (r < 0) {
    log_warn("admin socket: refused a connection: %s", strerror(-r));
    evutil_closesocket(fd);
    free(conn);
    return;
  }
  conn->owner = sock;
  conn->bev = bufferevent_socket_new(evconnlistener_get_base(listener), fd, BEV_OPT_CLOSE_ON_FREE);
  TAILQ_INSERT_TAIL(&sock->connections, conn, link);
  bufferevent_setcb(conn->bev, on_read, NULL, on_event, conn);
  bufferevent_set_timeouts(conn->bev, &timeout, &timeout);
  bufferevent_enable(conn->bev, EV_READ);
}

/* A socket file left by a registry that died goes; one that answers is
 * another registry's. */
static int claim_path(const char *path)
{
  int fd = connect_to(path);

  if (fd >= 0) {
    close(fd);
    return -EADDRINUSE;
  }
  if (unlink(path) < 0 && errno != ENOENT)
    return -errno;
  return 0;
}

static int listen_at(const char *path)
{
  struct sockaddr_un addr;
  int r = unix_address(path, &addr), fd;

  if (r < 0)
    return r;
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod(path, 0600) < 0 ||
      listen(fd, 16) < 0) {
    r = -errno;
    close(fd);
    return r;
  }
  return fd;
}

int admin_socket_open(struct event_base *base, const char *path, const struct admin_context *ctx,
                      struct admin_socket **out_socket)
{
  struct admin_socket *sock;
  int r = claim_path(path), fd;

  if (r < 0)
    return r;
  fd = listen_at(path);
  if (fd < 0)
    return fd;
  sock = xcalloc(1, sizeof *sock);
  sock->ctx = ctx;
  sock->path = xstrdup(path);
  TAILQ_INIT(&sock->connections);
  sock->listener = evconnlistener_new(base, on_accept, sock, LEV_OPT_CLOSE_ON_FREE, -1, fd);
  if (!sock->listener) {
    close(fd);
    admin_socket_free(sock);
    return -ENOMEM;
  }
  *out_socket = sock;
  return 0;
}

void admin_socket_free(struct admin_socket *sock)
{
  struct connection *conn;

  if (!sock)
    return;
  while ((conn = TAILQ_FIRST(&sock->connections)))
    connection_free(conn);
  if (sock->listener) {
    evconnlistener_free(sock->listener);
    unlink(sock->path);
  }
  free(sock->path);
  free(sock);
}

/* The client's side. */
static int send_all(int fd, const char *text)
{
  size_t len = strlen(text);

  for (size_t off = 0; off < len;) {
    ssize_t n = write(fd, text + off, len - off);
    if (n < 0 && errno != EINTR)
      return -errno;
    if (n > 0)
      off += (size_t)n;
  }
  return 0;
}

static int read_reply(int fd, int *out_status, json_t **out_answer)
{
  char buf[65536];
  size_t used = 0;
  json_t *reply, *status;
  ssize_t n;

  while (used < sizeof buf - 1 && (n = read(fd, buf + used, sizeof buf - 1 - used)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno == EAGAIN ? -ETIMEDOUT : -errno;
    used += (size_t)n;
    if (memchr(buf, '\n', used))
      break;
  }
  buf[used] = '\0';
  reply = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
  status = json_object_get(reply, "status");
  if (!json_is_integer(status) || !json_is_object(json_object_get(reply, "answer"))) {
    json_decref(reply);
    return -EBADMSG;
  }
  *out_status = (int)json_integer_value(status);
  *out_answer = json_incref(json_object_get(reply, "answer"));
  json_decref(reply);
  return 0;
}

int admin_socket_call(const char *path, const char *login, char *const *words, size_t count,
                      int *out_status, json_t **out_answer)
{
  const struct timeval timeout = {CALL_TIMEOUT_S, 0};
  json_t *request = json_pack("{s:[], s:s?}", "words", "login", login);
  char *text;
  int fd = connect_to(path), r;

  if (fd < 0) {
    json_decref(request);
    return fd;
  }
  for (size_t i = 0; i < count; i++)
    json_array_append_new(json_object_get(request, "words"), json_string(words[i]));
  text = json_dumps(request, JSON_COMPACT);
  json_decref(request);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  r = send_all(fd, text);
  if (r == 0)
    r = send_all(fd, "\n");
  free(text);
  if (r == 0)
    r = read_reply(fd, out_status, out_answer);
  close(fd);
  return r;
}
