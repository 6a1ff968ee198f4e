/* The remote check's HTTP client: libcurl's multi-socket interface on the
 * daemon's libevent loop. curl tells us which sockets to watch and when to
 * wake it (socket and timer callbacks); we tell curl what happened
 * (curl_multi_socket_action). At most max_in_flight requests run; the rest
 * wait in order. See DESIGN.md "libevent integration" for the rules kept
 * here: one non-repeating timer, event_del before re-assigning a socket's
 * event, CURL_POLL_REMOVE for sockets we never saw, results copied before
 * the handle is removed. */
#include "registry_client.h"

#include "log.h"
#include "pctenc.h"
#include "xalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/queue.h>

#define ANSWER_MAX (64 * 1024)

enum call_kind {
  CALL_LOOKUP = REGISTRY_CALL_LOOKUP,
  CALL_CLAIM = REGISTRY_CALL_CLAIM,
  CALL_RELEASE = REGISTRY_CALL_RELEASE,
  CALL_CREATE_ACCOUNT = REGISTRY_CALL_CREATE_ACCOUNT,
  CALL_INFO = REGISTRY_CALL_INFO,
};

struct registry_call {
  struct registry_client *client;
  enum call_kind kind;
  const char *method;
  char *url;
  uint64_t seq;
  /* Made when the call goes on the wire, not while it waits: an easy
   * handle is 5.4 kB, and an attach storm queues one call per phone. */
  CURL *easy;
  struct curl_slist *headers;
  registry_done_fn done;
  void *userdata;
  char *body;
  size_t body_len;
  bool body_overflow;
  unsigned retry_after_s;    /* from the answer's Retry-After header */
  char why[CURL_ERROR_SIZE]; /* curl's own words for a failure ("certificate has expired") */
  enum { CALL_WAITING, CALL_RUNNING, CALL_FAILED } where;
  TAILQ_ENTRY(registry_call) link;
};

TAILQ_HEAD(call_list, registry_call);

struct registry_client {
  struct event_base *base;
  CURLM *multi;
  struct event *timer;
  char *url, *token, *ca_file, *pinned_key;
  long timeout_ms;
  registry_observe_fn observe;
  void *observe_userdata;
  unsigned max_in_flight, in_flight;
  /* Each call is on one list, by its `where`: O(1) to queue, start,
   * finish or cancel, however many wait in an attach storm. */
  struct call_list running, waiting, failed;
  struct event *failed_event; /* answers the calls curl would not take */
};

struct socket_watch {
  struct event *event;
};

static struct call_list *list_of(struct registry_client *client, const struct registry_call *call)
{
  switch (call->where) {
  case CALL_RUNNING:
    return &client->running;
  case CALL_FAILED:
    return &client->failed;
  default:
    return &client->waiting;
  }
}

static void list_remove(struct registry_client *client, struct registry_call *call)
{
  TAILQ_REMOVE(list_of(client, call), call, link);
  if (call->where == CALL_RUNNING)
    client->in_flight--;
}

static void list_insert(struct registry_client *client, struct registry_call *call, int where)
{
  call->where = where;
  TAILQ_INSERT_TAIL(list_of(client, call), call, link);
  if (where == CALL_RUNNING)
    client->in_flight++;
}

static void call_free(struct registry_call *call)
{
  if (call->easy) {
    if (call->where == CALL_RUNNING)
      curl_multi_remove_handle(call->client->multi, call->easy);
    curl_easy_cleanup(call->easy);
  }
  curl_slist_free_all(call->headers);
  free(call->url);
  free(call->body);
  free(call);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
  struct registry_call *call = userdata;
  size_t len = size * nmemb;

  if (call->body_len + len > ANSWER_MAX) {
    call->body_overflow = true;
    return 0; /* makes curl stop with CURLE_WRITE_ERROR */
  }
  call->body = xrealloc(call->body, call->body_len + len + 1);
  memcpy(call->body + call->body_len, data, len);
  call->body_len += len;
  call->body[call->body_len] = '\0';
  return len;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
  struct registry_call *call = userdata;
  size_t len = size * nmemb;

  registry_answer_retry_after(data, len, &call->retry_after_s);
  return len;
}

/* Failures after which the request certainly never left this machine. */
static bool never_sent(CURLcode result)
{
  switch (result) {
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_URL_MALFORMAT:
    return true;
  default:
    return false;
  }
}

static void deliver(struct registry_call *call, CURLcode result)
{
  struct registry_answer answer = {.outcome = REGISTRY_UNREACHABLE, .error = "no answer"};
  json_t *json = NULL;

  curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &answer.http_status);
  if (answer.http_status == 429 || answer.http_status == 503)
    answer.retry_after_s = call->retry_after_s;
  if (call->body_overflow) {
    registry_answer_read((enum registry_call_kind)call->kind, answer.http_status, NULL, 0, true,
                         &answer, &json);
  } else if (result != CURLE_OK) {
    answer.outcome =
      result == CURLE_WEIRD_SERVER_REPLY ? REGISTRY_BAD_ANSWER : REGISTRY_UNREACHABLE;
    answer.error = call->why[0] ? call->why : curl_easy_strerror(result);
    answer.http_status = 0;
    answer.not_done = never_sent(result);
  } else {
    registry_answer_read((enum registry_call_kind)call->kind, answer.http_status, call->body,
                         call->body_len, false, &answer, &json);
  }
  if (call->client->observe && call->kind != CALL_INFO)
    call->client->observe(&answer, call->client->observe_userdata);
  call->done(&answer, call->userdata);
  json_decref(json);
}

static void start_queued(struct registry_client *client);

static void check_completions(struct registry_client *client)
{
  CURLMsg *msg;
  int left;

  while ((msg = curl_multi_info_read(client->multi, &left))) {
    struct registry_call *call;
    CURLcode result = msg->data.result;

    if (msg->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
    list_remove(client, call);
    /* The callback may start or cancel calls: take this one out first,
     * answer, then free it. */
    deliver(call, result);
    call_free(call);
  }
  start_queued(client);
}

static void on_socket_event(evutil_socket_t fd, short events, void *arg)
{
  struct registry_client *client = arg;
  int action =
    (events & EV_READ ? CURL_CSELECT_IN : 0) | (events & EV_WRITE ? CURL_CSELECT_OUT : 0);
  int running;

  curl_multi_socket_action(client->multi, fd, action, &running);
  check_completions(client);
}

static void on_timer(evutil_socket_t fd, short events, void *arg)
{
  struct registry_client *client = arg;
  int running;

  (void)fd;
  (void)events;
  curl_multi_socket_action(client->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_completions(client);
}

/* curl: "watch this socket for these events" (or stop watching it). */
static int on_socket_change(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
  struct registry_client *client = userp;
  struct socket_watch *watch = socketp;
  short events =
    (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0));

  (void)easy;
  if (what == CURL_POLL_REMOVE) {
    if (watch) { /* curl may remove a socket it never asked us to watch */
      event_free(watch->event);
      free(watch);
      curl_multi_assign(client->multi, fd, NULL);
    }
    return 0;
  }
  if (!watch) {
    watch = xcalloc(1, sizeof *watch);
    watch->event = event_new(client->base, fd, events | EV_PERSIST, on_socket_event, client);
    curl_multi_assign(client->multi, fd, watch);
  } else {
    event_del(watch->event);
    event_assign(watch->event, client->base, fd, events | EV_PERSIST, on_socket_event, client);
  }
  event_add(watch->event, NULL);
  return 0;
}

/* curl: "wake me in timeout_ms" (-1: never). Never call curl from here. */
static int on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
  struct registry_client *client = userp;
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

  (void)multi;
  if (timeout_ms < 0)
    evtimer_del(client->timer);
  else
    evtimer_add(client->timer, &tv);
  return 0;
}

/* curl refused the handle (out of memory): the caller still hears of it,
 * from the loop, as a request that was never sent. */
static void on_failed(evutil_socket_t fd, short events, void *arg)
{
  struct registry_client *client = arg;
  struct registry_call *call;

  (void)fd;
  (void)events;
  while ((call = TAILQ_FIRST(&client->failed))) {
    const struct registry_answer answer = {
      .outcome = REGISTRY_UNREACHABLE, .error = "cannot start the request", .not_done = true};
    list_remove(client, call);
    if (client->observe && call->kind != CALL_INFO)
      client->observe(&answer, client->observe_userdata);
    call->done(&answer, call->userdata);
    call_free(call);
  }
}

static int call_prepare(struct registry_call *call);

static void start_queued(struct registry_client *client)
{
  struct registry_call *call;

  while (client->in_flight < client->max_in_flight && (call = TAILQ_FIRST(&client->waiting))) {
    list_remove(client, call);
    if (call_prepare(call) == 0 && curl_multi_add_handle(client->multi, call->easy) == CURLM_OK) {
      list_insert(client, call, CALL_RUNNING);
      continue;
    }
    log_err("registry: cannot start a request");
    list_insert(client, call, CALL_FAILED);
    event_active(client->failed_event, 0, 0);
  }
}

static CURL *easy_new(struct registry_call *call, const char *method, const char *url)
{
  CURL *easy = curl_easy_init();

  if (!easy)
    return NULL;
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, call);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, call->why);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, call);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, call);
  curl_easy_setopt(easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
  if (call->client->ca_file)
    curl_easy_setopt(easy, CURLOPT_CAINFO, call->client->ca_file);
  if (call->client->pinned_key)
    curl_easy_setopt(easy, CURLOPT_PINNEDPUBLICKEY, call->client->pinned_key);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, call->headers);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, call->client->timeout_ms);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  /* The registry's answers are a few hundred bytes: libcurl's 16 kB
   * receive buffer per request in flight was half a megabyte of the heap's
   * peak in an attach storm (32 in flight). */
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 4096L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  if (strcmp(method, "GET") != 0)
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
  if (call->kind == CALL_RELEASE) {
    /* On a reused connection curl sends again, unasked, a request whose
     * first copy met a closed connection; if the second connect fails,
     * "could not connect" would hide that the first copy may have been
     * carried out. A fresh connection makes that failure mean "not sent". */
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
  }
  if (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0) {
    /* a body of our own choosing: Content-Length set, no Expect: */
    const char *body = strcmp(method, "POST") == 0 ? "{}" : "";
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  }
  return easy;
}

/* The headers and the easy handle, as the call starts. */
static int call_prepare(struct registry_call *call)
{
  struct registry_client *client = call->client;

  call->headers = curl_slist_append(NULL, "Accept: application/json");
  call->headers = curl_slist_append(call->headers, "Content-Type: application/json");
  call->headers = curl_slist_append(call->headers, "Expect:");
  if (client->token && call->kind != CALL_CREATE_ACCOUNT && call->kind != CALL_INFO) {
    _cleanup_free_ char *auth = xasprintf("Authorization: Bearer %s", client->token);
    call->headers = curl_slist_append(call->headers, auth);
  }
  if (call->seq) {
    _cleanup_free_ char *fence = xasprintf("Phonebind-Seq: %llu", (unsigned long long)call->seq);
    call->headers = curl_slist_append(call->headers, fence);
  }
  if (call->headers)
    call->easy = easy_new(call, call->method, call->url);
  return call->easy ? 0 : -ENOMEM;
}

static int call_start(struct registry_client *client, enum call_kind kind, const char *method,
                      const char *path, uint64_t seq, registry_done_fn done, void *userdata,
                      struct registry_call **out_call)
{
  struct registry_call *call = xcalloc(1, sizeof *call);

  call->client = client;
  call->kind = kind;
  call->method = method;
  call->url = xasprintf("%s%s", client->url, path);
  call->seq = seq;
  call->done = done;
  call->userdata = userdata;
  list_insert(client, call, CALL_WAITING);
  start_queued(client);
  if (out_call)
    *out_call = call;
  return 0;
}

static int terminal_call(struct registry_client *client, enum call_kind kind, const char *method,
                         const char *terminal_id, const char *suffix, uint64_t seq,
                         registry_done_fn done, void *userdata, struct registry_call **out_call)
{
  _cleanup_free_ char *encoded = pct_encode(terminal_id);
  _cleanup_free_ char *path = xasprintf("/v1/terminals/%s%s", encoded, suffix);

  return call_start(client, kind, method, path, seq, done, userdata, out_call);
}

int registry_client_lookup(struct registry_client *client, const char *terminal_id,
                           registry_done_fn done, void *userdata, struct registry_call **out_call)
{
  return terminal_call(client, CALL_LOOKUP, "GET", terminal_id, "", 0, done, userdata, out_call);
}

int registry_client_claim(struct registry_client *client, const char *terminal_id, uint64_t seq,
                          registry_done_fn done, void *userdata, struct registry_call **out_call)
{
  return terminal_call(client, CALL_CLAIM, "PUT", terminal_id, "/binding", seq, done, userdata,
                       out_call);
}

int registry_client_release(struct registry_client *client, const char *terminal_id, uint64_t seq,
                            registry_done_fn done, void *userdata, struct registry_call **out_call)
{
  return terminal_call(client, CALL_RELEASE, "DELETE", terminal_id, "/binding", seq, done, userdata,
                       out_call);
}

int registry_client_create_account(struct registry_client *client, registry_done_fn done,
                                   void *userdata, struct registry_call **out_call)
{
  return call_start(client, CALL_CREATE_ACCOUNT, "POST", "/v1/accounts", 0, done, userdata,
                    out_call);
}

int registry_client_info(struct registry_client *client, registry_done_fn done, void *userdata,
                         struct registry_call **out_call)
{
  return call_start(client, CALL_INFO, "GET", "/v1/info", 0, done, userdata, out_call);
}

void registry_call_cancel(struct registry_call *call)
{
  struct registry_client *client;

  if (!call)
    return;
  client = call->client;
  list_remove(client, call);
  call_free(call);
  start_queued(client);
}

int registry_client_set_token(struct registry_client *client, const char *token)
{
  free(client->token);
  client->token = token ? xstrdup(token) : NULL;
  return 0;
}

void registry_client_set_observer(struct registry_client *client, registry_observe_fn observe,
                                  void *userdata)
{
  client->observe = observe;
  client->observe_userdata = userdata;
}

int registry_client_new(struct event_base *base, const struct registry_client_options *options,
                        struct registry_client **out_client)
{
  struct registry_client *client;
  size_t url_len;

  if (!options->url || strncmp(options->url, "http", 4) != 0)
    return -EINVAL;
  client = xcalloc(1, sizeof *client);
  client->base = base;
  TAILQ_INIT(&client->running);
  TAILQ_INIT(&client->waiting);
  TAILQ_INIT(&client->failed);
  url_len = strlen(options->url);
  while (url_len > 0 && options->url[url_len - 1] == '/')
    url_len--;
  client->url = xstrndup(options->url, url_len);
  client->token = options->token ? xstrdup(options->token) : NULL;
  client->ca_file = options->ca_file ? xstrdup(options->ca_file) : NULL;
  client->pinned_key = options->pinned_key ? xstrdup(options->pinned_key) : NULL;
  client->timeout_ms = options->timeout_ms > 0 ? options->timeout_ms : 5000;
  client->max_in_flight = options->max_in_flight > 0 ? options->max_in_flight : 32;
  client->multi = curl_multi_init();
  client->timer = evtimer_new(base, on_timer, client);
  client->failed_event = event_new(base, -1, 0, on_failed, client);
  if (!client->multi || !client->timer || !client->failed_event) {
    registry_client_free(client);
    return -ENOMEM;
  }
  curl_multi_setopt(client->multi, CURLMOPT_SOCKETFUNCTION, on_socket_change);
  curl_multi_setopt(client->multi, CURLMOPT_SOCKETDATA, client);
  curl_multi_setopt(client->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
  curl_multi_setopt(client->multi, CURLMOPT_TIMERDATA, client);
  curl_multi_setopt(client->multi, CURLMOPT_MAXCONNECTS, (long)client->max_in_flight);
  *out_client = client;
  return 0;
}

void registry_client_free(struct registry_client *client)
{
  struct registry_call *call;

  if (!client)
    return;
  struct call_list *const lists[] = {&client->running, &client->waiting, &client->failed};
  for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
    while ((call = TAILQ_FIRST(lists[i]))) {
      list_remove(client, call);
      call_free(call);
    }
  /* Cleanup closes cached connections, which reports CURL_POLL_REMOVE for
   * their sockets: the timer and socket events must still exist. */
  if (client->multi)
    curl_multi_cleanup(client->multi);
  if (client->timer)
    event_free(client->timer);
  if (client->failed_event)
    event_free(client->failed_event);
  free(client->url);
  free(client->token);
  free(client->ca_file);
  free(client->pinned_key);
  free(client);
}

/* The host of a URL by libcurl's own parser, so that the check reads the
 * URL as the requests will. */
static char *url_host(const char *url)
{
  CURLU *parsed = curl_url();
  char *host = NULL, *copy = NULL;

  if (parsed && curl_url_set(parsed, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK)
    copy = xstrdup(host);
  curl_free(host);
  curl_url_cleanup(parsed);
  return copy;
}

bool registry_url_is_loopback(const char *url)
{
  _cleanup_free_ char *host = url_host(url);
  struct in_addr v4;

  if (!host)
    return false;
  if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
    return true;
  return inet_pton(AF_INET, host, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

bool registry_url_is_tls(const char *url)
{
  return strncasecmp(url, "https://", 8) == 0;
}
