/* The registry client on a real libevent loop, against the real
 * phonebind-registry and against fault peers made here: a closed port, a
 * peer that never answers, garbage, a 500, a 200 that is not JSON, an
 * answer over the size limit. Also: callbacks never run inside the
 * starting call, the in-flight bound holds, cancel suppresses the
 * callback, and freeing with calls outstanding leaks nothing (ASan).
 * Fencing: Phonebind-Seq sent on PUT and DELETE, a "stale" 409 read with
 * its sequence, and which failures mean "certainly not done". The queue:
 * hundreds of calls behind a bound of two all answered, and a request
 * curl refuses (curl_multi_add_handle wrapped to fail) answered from the
 * loop as never sent, not left queued for ever. /v1/info: the binding
 * TTL read, a 404 as "never", no token sent, the observer not told. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry_client.h"

extern char **environ;

/* curl_multi_add_handle, failing on demand (-Wl,--wrap). */
static bool refuse_handles;

CURLMcode __real_curl_multi_add_handle(CURLM *multi, CURL *easy);
CURLMcode __wrap_curl_multi_add_handle(CURLM *multi, CURL *easy);
CURLMcode __wrap_curl_multi_add_handle(CURLM *multi, CURL *easy)
{
  return refuse_handles ? CURLM_OUT_OF_MEMORY : __real_curl_multi_add_handle(multi, easy);
}

struct result {
  bool done;
  struct registry_answer answer;
  char account[128], token[128];
};

static void on_done(const struct registry_answer *answer, void *userdata)
{
  struct result *result = userdata;

  result->done = true;
  result->answer = *answer;
  result->answer.account = result->answer.token = NULL;
  result->answer.error = NULL;
  if (answer->account)
    snprintf(result->account, sizeof result->account, "%s", answer->account);
  if (answer->token)
    snprintf(result->token, sizeof result->token, "%s", answer->token);
}

static void run_until(struct event_base *base, bool *flag, int timeout_ms)
{
  struct timespec start, now;

  clock_gettime(CLOCK_MONOTONIC, &start);
  while (!*flag) {
    event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    usleep(200);
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 > timeout_ms)
      break;
  }
}

static int listen_socket(int *out_port)
{
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof addr;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
  assert_int_equal(listen(fd, 64), 0);
  getsockname(fd, (struct sockaddr *)&addr, &len);
  *out_port = ntohs(addr.sin_port);
  return fd;
}

/* A peer that answers every connection with a canned reply (or holds it
 * silently open when reply is NULL), counting connections. */
struct peer {
  int fd, port;
  const char *reply;
  size_t reply_len;
  atomic_int connections;
  int held[64];
  char request[4096]; /* the last request read */
  pthread_t thread;
};

static void *peer_run(void *arg)
{
  struct peer *peer = arg;

  for (;;) {
    char buf[4096];
    int c = accept(peer->fd, NULL, NULL);
    if (c < 0)
      return NULL;
    int n = atomic_fetch_add(&peer->connections, 1);
    if (!peer->reply) {
      if (n < 64)
        peer->held[n] = c;
      continue;
    }
    ssize_t got = read(c, buf, sizeof buf - 1);
    if (got > 0) {
      buf[got] = '\0';
      memcpy(peer->request, buf, (size_t)got + 1);
    }
    for (size_t off = 0; off < peer->reply_len;) {
      ssize_t w = write(c, peer->reply + off, peer->reply_len - off);
      if (w <= 0)
        break;
      off += (size_t)w;
    }
    close(c);
  }
}

static void peer_start(struct peer *peer, const char *reply, size_t reply_len)
{
  *peer = (struct peer){.reply = reply, .reply_len = reply_len};
  peer->fd = listen_socket(&peer->port);
  pthread_create(&peer->thread, NULL, peer_run, peer);
}

static void peer_stop(struct peer *peer)
{
  shutdown(peer->fd, SHUT_RDWR);
  close(peer->fd);
  pthread_join(peer->thread, NULL);
  for (int i = 0; i < atomic_load(&peer->connections) && i < 64; i++)
    if (!peer->reply)
      close(peer->held[i]);
}

static struct registry_client *client_for(struct event_base *base, int port, long timeout_ms,
                                          unsigned max_in_flight)
{
  char url[64];
  struct registry_client *client;
  const struct registry_client_options options = {
    .url = url, .timeout_ms = timeout_ms, .max_in_flight = max_in_flight, .token = "t"};
  snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
  assert_int_equal(registry_client_new(base, &options, &client), 0);
  return client;
}

static void lookup_once(int port, long timeout_ms, struct result *result)
{
  struct event_base *base = event_base_new();
  struct registry_client *client = client_for(base, port, timeout_ms, 4);

  assert_int_equal(registry_client_lookup(client, "usb:18d1:X", on_done, result, NULL), 0);
  assert_false(result->done); /* never from inside the starting call */
  run_until(base, &result->done, 5000);
  assert_true(result->done);
  registry_client_free(client);
  event_base_free(base);
}

static void test_refused(void **state)
{
  struct result result = {0};
  int port, fd = listen_socket(&port);
  (void)state;
  close(fd); /* nobody listens there now */
  lookup_once(port, 2000, &result);
  assert_int_equal(result.answer.outcome, REGISTRY_UNREACHABLE);
  assert_int_equal(result.answer.http_status, 0);
}

static void test_silent_peer_times_out(void **state)
{
  struct peer peer;
  struct result result = {0};
  (void)state;
  peer_start(&peer, NULL, 0);
  lookup_once(peer.port, 300, &result);
  peer_stop(&peer);
  assert_int_equal(result.answer.outcome, REGISTRY_UNREACHABLE);
}

static void expect_bad_answer(const char *reply, size_t len, bool unreachable_ok)
{
  struct peer peer;
  struct result result = {0};

  peer_start(&peer, reply, len);
  lookup_once(peer.port, 2000, &result);
  peer_stop(&peer);
  if (!(unreachable_ok && result.answer.outcome == REGISTRY_UNREACHABLE))
    assert_int_equal(result.answer.outcome, REGISTRY_BAD_ANSWER);
}

static void test_garbage_and_errors(void **state)
{
  static const char garbage[] = "\x16\x03\x01 this is not HTTP at all\r\n\r\n";
  static const char server_error[] =
    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n"
    "Connection: close\r\n\r\n{}";
  static const char not_json[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    "Content-Length: 9\r\nConnection: close\r\n\r\nnot json!";
  static const char wrong_status[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 23\r\n"
    "Connection: close\r\n\r\n{\"status\":\"maybe-later\"}";
  (void)state;
  expect_bad_answer(garbage, sizeof garbage - 1, true);
  expect_bad_answer(server_error, sizeof server_error - 1, false);
  expect_bad_answer(not_json, sizeof not_json - 1, false);
  expect_bad_answer(wrong_status, sizeof wrong_status - 1, false);
}

static void test_oversized_answer(void **state)
{
  size_t body = 200 * 1024;
  char *reply = malloc(body + 256);
  int n = snprintf(reply, 256,
                   "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", body);
  (void)state;
  memset(reply + n, ' ', body);
  expect_bad_answer(reply, (size_t)n + body, false);
  free(reply);
}

static int claim_unfenced(struct registry_client *client, const char *id, registry_done_fn done,
                          void *userdata, struct registry_call **out_call)
{
  return registry_client_claim(client, id, 0, done, userdata, out_call);
}

static int release_unfenced(struct registry_client *client, const char *id, registry_done_fn done,
                            void *userdata, struct registry_call **out_call)
{
  return registry_client_release(client, id, 0, done, userdata, out_call);
}

/* One fenced call to a canned peer; the request it saw is in peer->request. */
static void fenced_once(struct peer *peer, const char *reply, bool release, uint64_t seq,
                        struct result *result)
{
  struct event_base *base = event_base_new();
  struct registry_client *client;

  peer_start(peer, reply, strlen(reply));
  client = client_for(base, peer->port, 2000, 4);
  *result = (struct result){0};
  if (release)
    assert_int_equal(registry_client_release(client, "usb:18d1:X", seq, on_done, result, NULL), 0);
  else
    assert_int_equal(registry_client_claim(client, "usb:18d1:X", seq, on_done, result, NULL), 0);
  run_until(base, &result->done, 5000);
  assert_true(result->done);
  registry_client_free(client);
  event_base_free(base);
  peer_stop(peer);
}

static void test_fencing(void **state)
{
  static const char stale[] =
    "HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\n"
    "Content-Length: 26\r\nConnection: close\r\n\r\n"
    "{\"error\":\"stale\",\"seq\":77}";
  static const char created[] =
    "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n"
    "Connection: close\r\n\r\n{}";
  struct peer peer;
  struct result result;
  (void)state;
  fenced_once(&peer, created, false, 1764000000000001ull, &result);
  assert_non_null(strstr(peer.request, "\r\nPhonebind-Seq: 1764000000000001\r\n"));
  assert_int_equal(result.answer.http_status, 201);
  fenced_once(&peer, created, false, 0, &result);
  assert_null(strstr(peer.request, "Phonebind-Seq"));
  for (int release = 0; release < 2; release++) {
    fenced_once(&peer, stale, release, 5, &result);
    assert_non_null(strstr(peer.request, release ? "DELETE " : "PUT "));
    assert_int_equal(result.answer.outcome, REGISTRY_ANSWERED);
    assert_int_equal(result.answer.http_status, 409);
    assert_int_equal(result.answer.stale_seq, 77);
    assert_int_equal(result.answer.status, REGISTRY_STATUS_NONE); /* not bound-to-other */
  }
}

/* Which failures of a release mean "nothing happened" (the daemon then
 * says so and changes nothing) and which leave the outcome unknown. */
static void test_not_done(void **state)
{
  static const char unavailable[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n"
    "Connection: close\r\n\r\n{}";
  static const char server_error[] =
    "HTTP/1.1 500 Internal Server Error\r\n"
    "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
  struct event_base *base = event_base_new();
  struct registry_client *client;
  struct peer peer;
  struct result result = {0};
  int port, fd = listen_socket(&port);
  (void)state;
  close(fd); /* refused */
  client = client_for(base, port, 2000, 4);
  assert_int_equal(registry_client_release(client, "usb:18d1:X", 9, on_done, &result, NULL), 0);
  run_until(base, &result.done, 5000);
  assert_true(result.answer.not_done);
  registry_client_free(client);
  event_base_free(base);
  fenced_once(&peer, unavailable, true, 9, &result);
  assert_true(result.answer.not_done);
  fenced_once(&peer, server_error, true, 9, &result);
  assert_false(result.answer.not_done); /* it may have been done */
  peer_start(&peer, NULL, 0);           /* accepts, never answers: unknown */
  base = event_base_new();
  client = client_for(base, peer.port, 300, 4);
  result = (struct result){0};
  assert_int_equal(registry_client_release(client, "usb:18d1:X", 9, on_done, &result, NULL), 0);
  run_until(base, &result.done, 5000);
  assert_int_equal(result.answer.outcome, REGISTRY_UNREACHABLE);
  assert_false(result.answer.not_done);
  registry_client_free(client);
  event_base_free(base);
  peer_stop(&peer);
}

static void test_long_queue(void **state)
{
  static const char unbound[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    "Content-Length: 20\r\nConnection: close\r\n\r\n"
    "{\"status\":\"unbound\"}";
  enum { CALLS = 300 };
  static struct result results[CALLS];
  struct event_base *base = event_base_new();
  struct registry_client *client;
  struct peer peer;
  bool never = false;
  int done = 0;
  (void)state;
  peer_start(&peer, unbound, sizeof unbound - 1);
  client = client_for(base, peer.port, 5000, 2);
  memset(results, 0, sizeof results);
  for (int i = 0; i < CALLS; i++)
    assert_int_equal(registry_client_lookup(client, "usb:18d1:X", on_done, &results[i], NULL), 0);
  for (int spins = 0; spins < 200 && done < CALLS; spins++) {
    run_until(base, &never, 50);
    done = 0;
    for (int i = 0; i < CALLS; i++)
      done += results[i].done && results[i].answer.status == REGISTRY_STATUS_UNBOUND;
  }
  assert_int_equal(done, CALLS);
  registry_client_free(client);
  event_base_free(base);
  peer_stop(&peer);
}

/* Fault: curl would not take a request's handle. It used to stay queued
 * with nothing to start it again: its caller never heard back. */
/* Fault: every queued call holding a libcurl easy handle (5.4 kB) while
 * it waits: an attach storm of 1000 phones made the daemon's heap 5 MiB
 * larger. A call waiting its turn costs its URL and little more; what it
 * needs to go on the wire is made when it does. (mallinfo2 sees glibc's
 * heap; under ASan it sees nothing, and the test says nothing.) */
static void test_waiting_calls_are_small(void **state)
{
  enum { CALLS = 1000 };
  static struct result results[CALLS];
  struct event_base *base = event_base_new();
  struct registry_client *client = client_for(base, 9, 5000, 1); /* port 9: nobody */
  size_t before = mallinfo2().uordblks, grown;
  (void)state;
  for (int i = 0; i < CALLS; i++)
    assert_int_equal(
      registry_client_lookup(client, "usb:18d1:R58M41ABCDE", on_done, &results[i], NULL), 0);
  grown = mallinfo2().uordblks - before;
  assert_true(grown < CALLS * 1024);
  registry_client_free(client);
  event_base_free(base);
}

static void test_refused_handle_is_answered(void **state)
{
  struct event_base *base = event_base_new();
  struct registry_client *client;
  struct result first = {0}, second = {0};
  int port, fd = listen_socket(&port);
  (void)state;
  close(fd);
  client = client_for(base, port, 2000, 4);
  refuse_handles = true;
  assert_int_equal(registry_client_lookup(client, "usb:18d1:X", on_done, &first, NULL), 0);
  refuse_handles = false;
  assert_false(first.done); /* from the loop, never inside the starting call */
  run_until(base, &first.done, 2000);
  assert_true(first.done);
  assert_int_equal(first.answer.outcome, REGISTRY_UNREACHABLE);
  assert_true(first.answer.not_done);
  assert_int_equal(registry_client_lookup(client, "usb:18d1:X", on_done, &second, NULL), 0);
  run_until(base, &second.done, 5000); /* the next one goes as usual */
  assert_true(second.done);
  registry_client_free(client);
  event_base_free(base);
}

/* 429 and 503 carry Retry-After: the daemon waits that long, at least. */
static void test_retry_after(void **state)
{
  static const char busy[] =
    "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"
    "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
  static const char down[] =
    "HTTP/1.1 503 Service Unavailable\r\nretry-after:  12 \r\n"
    "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
  static const char dated[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
    "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
  struct peer peer;
  struct result result;
  (void)state;
  fenced_once(&peer, busy, false, 1, &result);
  assert_int_equal(result.answer.outcome, REGISTRY_BAD_ANSWER);
  assert_int_equal(result.answer.retry_after_s, 7);
  fenced_once(&peer, down, false, 1, &result);
  assert_int_equal(result.answer.retry_after_s, 12);
  assert_true(result.answer.not_done);
  fenced_once(&peer, dated, true, 1, &result);
  assert_int_equal(result.answer.retry_after_s, 0); /* no hint understood */
}

static void test_loopback_urls(void **state)
{
  static const struct {
    const char *url;
    bool loopback;
  } rows[] = {
    {"http://127.0.0.1:8470", true},
    {"http://127.9.8.7/", true},
    {"http://localhost:8470", true},
    {"http://[::1]:8470", true},
    {"http://10.0.0.1:8470", false},
    {"http://registry.example", false},
    {"http://127.0.0.1.example.com/", false},
    {"http://user@128.0.0.1/", false},
    {"not a url", false},
  };
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
    if (registry_url_is_loopback(rows[i].url) != rows[i].loopback)
      fail_msg("%s", rows[i].url);
  assert_true(registry_url_is_tls("https://r.example"));
  assert_false(registry_url_is_tls("http://r.example"));
}

static int observed;

static void count_observed(const struct registry_answer *answer, void *userdata)
{
  (void)answer;
  (void)userdata;
  observed++;
}

static void test_observer_sees_every_answer(void **state)
{
  struct event_base *base = event_base_new();
  struct result result = {0};
  struct registry_client *client;
  int port, fd = listen_socket(&port);
  (void)state;
  close(fd);
  client = client_for(base, port, 2000, 4);
  registry_client_set_observer(client, count_observed, NULL);
  observed = 0;
  assert_int_equal(registry_client_lookup(client, "usb:18d1:X", on_done, &result, NULL), 0);
  run_until(base, &result.done, 5000);
  assert_int_equal(observed, 1);
  registry_client_free(client);
  event_base_free(base);
}

/* GET /v1/info to a canned peer, with an observer that must not hear of
 * it (an info answer says nothing of the token). */
static void info_once(struct peer *peer, const char *reply, struct result *result)
{
  struct event_base *base = event_base_new();
  struct registry_client *client;

  peer_start(peer, reply, strlen(reply));
  client = client_for(base, peer->port, 2000, 4);
  registry_client_set_observer(client, count_observed, NULL);
  observed = 0;
  *result = (struct result){0};
  assert_int_equal(registry_client_info(client, on_done, result, NULL), 0);
  run_until(base, &result->done, 5000);
  assert_true(result->done);
  assert_int_equal(observed, 0);
  registry_client_free(client);
  event_base_free(base);
  peer_stop(peer);
}

/* The binding TTL from /v1/info; an older registry's 404 means "never";
 * an answer without a TTL, or a negative one, is no answer. */
static void test_info(void **state)
{
  static const char ttl[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 39\r\n"
    "Connection: close\r\n\r\n{\"binding_ttl\":7776000,\"version\":\"0.2\"}";
  static const char older[] =
    "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
  static const char no_ttl[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{\"version\":\"0.2\"}";
  static const char negative[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 18\r\nConnection: close\r\n\r\n{\"binding_ttl\":-1}";
  struct peer peer;
  struct result result;
  (void)state;
  info_once(&peer, ttl, &result);
  assert_non_null(strstr(peer.request, "GET /v1/info "));
  assert_null(strstr(peer.request, "Authorization")); /* the token stays home */
  assert_int_equal(result.answer.outcome, REGISTRY_ANSWERED);
  assert_int_equal(result.answer.binding_ttl_s, 7776000);
  info_once(&peer, older, &result);
  assert_int_equal(result.answer.outcome, REGISTRY_ANSWERED);
  assert_int_equal(result.answer.binding_ttl_s, 0);
  info_once(&peer, no_ttl, &result);
  assert_int_equal(result.answer.outcome, REGISTRY_BAD_ANSWER);
  info_once(&peer, negative, &result);
  assert_int_equal(result.answer.outcome, REGISTRY_BAD_ANSWER);
}

static void test_in_flight_bound_and_cancel(void **state)
{
  struct event_base *base = event_base_new();
  struct peer peer;
  struct result results[5] = {{0}};
  struct registry_call *calls[5];
  struct registry_client *client;
  bool never = false;
  (void)state;

  peer_start(&peer, NULL, 0);
  client = client_for(base, peer.port, 10000, 2);
  for (int i = 0; i < 5; i++)
    assert_int_equal(registry_client_lookup(client, "usb:18d1:X", on_done, &results[i], &calls[i]),
                     0);
  run_until(base, &never, 300);
  assert_int_equal(atomic_load(&peer.connections), 2);
  registry_call_cancel(calls[0]); /* a running one: a queued call takes its place */
  registry_call_cancel(calls[4]); /* a queued one */
  run_until(base, &never, 300);
  assert_int_equal(atomic_load(&peer.connections), 3);
  for (int i = 0; i < 5; i++)
    assert_false(results[i].done);
  registry_client_free(client); /* with calls outstanding: no callbacks, no leaks */
  event_base_free(base);
  peer_stop(&peer);
}

/* The real registry, started for this test. */
static pid_t registry_start(int *out_port, char *dir)
{
  const char *build = getenv("PHONEBIND_BUILD_DIR");
  char program[512], listen_on[64], db[128];
  pid_t pid;
  int fd = listen_socket(out_port);

  close(fd);
  snprintf(program, sizeof program, "%s/server/phonebind-registry", build ? build : "build");
  snprintf(listen_on, sizeof listen_on, "127.0.0.1:%d", *out_port);
  snprintf(db, sizeof db, "%s/registry.db", dir);
  char *argv[] = {program, (char *)"--listen",    listen_on,       (char *)"--database",
                  db,      (char *)"--log-level", (char *)"error", NULL};
  assert_int_equal(posix_spawn(&pid, program, NULL, NULL, argv, environ), 0);
  for (int i = 0; i < 200; i++) { /* wait until it accepts */
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)*out_port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int ok = connect(s, (struct sockaddr *)&addr, sizeof addr) == 0;
    close(s);
    if (ok)
      break;
    usleep(20000);
  }
  return pid;
}

static void call_and_wait(struct event_base *base, struct result *result,
                          int (*start)(struct registry_client *, const char *, registry_done_fn,
                                       void *, struct registry_call **),
                          struct registry_client *client, const char *id)
{
  *result = (struct result){0};
  assert_int_equal(start(client, id, on_done, result, NULL), 0);
  run_until(base, &result->done, 5000);
  assert_true(result->done);
  assert_int_equal(result->answer.outcome, REGISTRY_ANSWERED);
}

static void new_account(struct event_base *base, struct registry_client *client,
                        struct result *result)
{
  *result = (struct result){0};
  assert_int_equal(registry_client_create_account(client, on_done, result, NULL), 0);
  run_until(base, &result->done, 5000);
  assert_int_equal(result->answer.outcome, REGISTRY_ANSWERED);
  assert_int_equal(result->answer.http_status, 201);
  assert_true(strlen(result->token) == 64);
  assert_true(strncmp(result->account, "sa-", 3) == 0);
}

static void test_real_registry(void **state)
{
  char dir[] = "/tmp/phonebind-client-XXXXXX", cmd[128];
  struct event_base *base = event_base_new();
  struct registry_client *mine, *theirs;
  struct result a, b, r;
  const char *id = "usb:18d1:A/B C%D"; /* needs percent-encoding */
  int port, status;
  pid_t pid;
  (void)state;

  assert_non_null(mkdtemp(dir));
  pid = registry_start(&port, dir);
  mine = client_for(base, port, 5000, 4);
  theirs = client_for(base, port, 5000, 4);
  new_account(base, mine, &a);
  new_account(base, mine, &b);
  assert_string_not_equal(a.account, b.account);
  registry_client_set_token(mine, a.token);
  registry_client_set_token(theirs, b.token);

  call_and_wait(base, &r, registry_client_lookup, mine, id);
  assert_int_equal(r.answer.http_status, 200);
  assert_int_equal(r.answer.status, REGISTRY_STATUS_UNBOUND);
  call_and_wait(base, &r, claim_unfenced, mine, id);
  assert_int_equal(r.answer.http_status, 201);
  call_and_wait(base, &r, claim_unfenced, mine, id);
  assert_int_equal(r.answer.http_status, 200);
  call_and_wait(base, &r, claim_unfenced, theirs, id);
  assert_int_equal(r.answer.http_status, 409);
  assert_int_equal(r.answer.status, REGISTRY_STATUS_BOUND_TO_OTHER);
  call_and_wait(base, &r, registry_client_lookup, theirs, id);
  assert_int_equal(r.answer.status, REGISTRY_STATUS_BOUND_TO_OTHER);
  call_and_wait(base, &r, registry_client_lookup, mine, id);
  assert_int_equal(r.answer.status, REGISTRY_STATUS_BOUND_TO_YOU);
  call_and_wait(base, &r, release_unfenced, theirs, id);
  assert_int_equal(r.answer.http_status, 403);
  call_and_wait(base, &r, release_unfenced, mine, id);
  assert_int_equal(r.answer.http_status, 204);
  call_and_wait(base, &r, release_unfenced, mine, id);
  assert_int_equal(r.answer.http_status, 404);
  registry_client_set_token(theirs, "not-a-token");
  call_and_wait(base, &r, registry_client_lookup, theirs, id);
  assert_int_equal(r.answer.http_status, 401);

  registry_client_free(mine);
  registry_client_free(theirs);
  event_base_free(base);
  kill(pid, SIGTERM);
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_refused),
    cmocka_unit_test(test_silent_peer_times_out),
    cmocka_unit_test(test_garbage_and_errors),
    cmocka_unit_test(test_oversized_answer),
    cmocka_unit_test(test_in_flight_bound_and_cancel),
    cmocka_unit_test(test_real_registry),
    cmocka_unit_test(test_fencing),
    cmocka_unit_test(test_not_done),
    cmocka_unit_test(test_observer_sees_every_answer),
    cmocka_unit_test(test_info),
    cmocka_unit_test(test_retry_after),
    cmocka_unit_test(test_loopback_urls),
    cmocka_unit_test(test_long_queue),
    cmocka_unit_test(test_waiting_calls_are_small),
    cmocka_unit_test(test_refused_handle_is_answered),
  };
  int r;

  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  r = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return r;
}
