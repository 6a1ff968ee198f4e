/* Request handling: route, authenticate, call the backend, answer JSON.
 * Each request is an exchange that lives until its one answer is sent;
 * the backend answers through a callback, at once (SQLite) or later from
 * this thread's loop (PostgreSQL), so a handler is a chain of steps:
 * authenticate, then the terminal's request, then the reply. */
#include "http.h"

#include "account_cache.h"
#include "framing.h"
#include "hash.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "throttle.h"
#include "router.h"
#include "version.h"
#include "xalloc.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A lookup's whole answer by status: no printf on the hottest route. */
static const char *const status_bodies[] = {
  [BINDING_UNBOUND] = "{\"status\":\"unbound\"}\n",
  [BINDING_BOUND_TO_YOU] = "{\"status\":\"bound-to-you\"}\n",
  [BINDING_BOUND_TO_OTHER] = "{\"status\":\"bound-to-other\"}\n",
};

static double monotonic_seconds(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall-clock milliseconds: the backend's time stamps. */
static uint64_t now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static enum http_method method_of(struct evhttp_request *req)
{
  switch (evhttp_request_get_command(req)) {
  case EVHTTP_REQ_GET:
    return METHOD_GET;
  case EVHTTP_REQ_POST:
    return METHOD_POST;
  case EVHTTP_REQ_PUT:
    return METHOD_PUT;
  case EVHTTP_REQ_DELETE:
    return METHOD_DELETE;
  default:
    return METHOD_OTHER;
  }
}

/* What one request became; recorded once, when it is answered. Freed by
 * send_reply(), which every path ends with exactly once. */
struct exchange {
  struct evhttp_request *req;
  struct registry *registry;
  struct event_base *base; /* this thread's loop: the backend answers there */
  enum route route;
  enum http_method method;
  double started;
  uint64_t seq; /* Phonebind-Seq, 0 when none */
  uint8_t terminal_hash[HASH_SHA256_LEN];
  uint8_t token_hash[HASH_SHA256_LEN]; /* the Bearer token's */
  char account[ACCOUNT_ID_MAX];        /* once authenticated */
  char token_hex[2 * 32 + 1];          /* a new account's token */
  uint64_t cache_generation;           /* the account cache's, before asking the backend */
  void (*authenticated)(struct exchange *ex);
};

/* The backend call that answers the exchange through done. */
#define CALL_OF(ex, fn) (&(struct backend_call){.base = (ex)->base, .done = (fn), .userdata = (ex)})

/* The Date header (RFC 9110's IMF-fixdate). evhttp formats one for every
 * answer when none is set; within a second they are all the same, so each
 * thread formats it once a second instead. */
static const char *http_date(void)
{
  static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static __thread time_t formatted_at;
  static __thread char date[80]; /* 29 used; room for what gcc cannot rule out */
  time_t now = time(NULL);
  struct tm tm;

  if (now != formatted_at && gmtime_r(&now, &tm)) {
    snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    formatted_at = now;
  }
  return date;
}

static void send_reply(struct exchange *ex, int status, const char *content_type,
                       struct evbuffer *body)
{
  struct evkeyvalq *headers = evhttp_request_get_output_headers(ex->req);

  evhttp_add_header(headers, "Date", http_date());
  evhttp_add_header(headers, "Content-Type", content_type);
  evhttp_send_reply(ex->req, status, NULL, body);
  metrics_count_request(ex->route, status, monotonic_seconds() - ex->started);
  log_debug("%s -> %d", router_template(ex->route), status);
  free(ex);
}

static void send_json(struct exchange *ex, int status, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* Straight into the request's own output buffer: no buffer of our own to
 * allocate, fill, move and free for every answer. */
static void send_json(struct exchange *ex, int status, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  evbuffer_add_vprintf(evhttp_request_get_output_buffer(ex->req), fmt, ap);
  va_end(ap);
  send_reply(ex, status, "application/json", NULL);
}

/* A body that is a constant string: referenced, not formatted or copied
 * (vsnprintf was a ninth of a lookup's instructions). */
static void send_json_constant(struct exchange *ex, int status, const char *body)
{
  evbuffer_add_reference(evhttp_request_get_output_buffer(ex->req), body, strlen(body), NULL, NULL);
  send_reply(ex, status, "application/json", NULL);
}

/* Error bodies are fixed strings of ours: no caller text is echoed. */
static void send_error(struct exchange *ex, int status, const char *error, const char *message)
{
  send_json(ex, status, "{\"error\":\"%s\",\"message\":\"%s\"}\n", error, message);
}

static void add_retry_after(struct exchange *ex, unsigned seconds)
{
  char value[16];

  snprintf(value, sizeof value, "%u", seconds ? seconds : 1);
  evhttp_add_header(evhttp_request_get_output_headers(ex->req), "Retry-After", value);
}

/* 429 with Retry-After when seconds is not 0; true then. */
static bool throttled(struct exchange *ex, unsigned seconds)
{
  if (seconds == 0)
    return false;
  add_retry_after(ex, seconds);
  send_error(ex, 429, "too-many-requests",
             "too many requests; try again after Retry-After seconds");
  return true;
}

/* 503 means "not done, try later" (the daemon's Forget relies on it); a
 * write whose outcome was lost with the database connection is not that,
 * so it is a 500 that still invites a retry. */
static void send_backend_error(struct exchange *ex, const struct backend_result *result)
{
  int r = result->error;

  if (r == BACKEND_UNAVAILABLE) {
    add_retry_after(ex, result->retry_after_s);
    send_error(ex, 503, "database-unavailable", "the registry cannot reach its database");
    return;
  }
  log_err("%s: storage failed: %s", router_template(ex->route), strerror(-r));
  if (r == -ENOSPC) {
    send_error(ex, 503, "storage-full", "the registry's storage is full");
  } else if (r == BACKEND_UNKNOWN) {
    add_retry_after(ex, result->retry_after_s);
    send_error(ex, 500, "outcome-unknown",
               "the database connection was lost before it confirmed the change");
  } else {
    send_error(ex, 500, "storage-error", "the registry could not read or write its storage");
  }
}

/* Body limits and shape: optional, and when present a JSON object. */
static int check_body(struct exchange *ex, int must_be_object)
{
  struct evbuffer *input = evhttp_request_get_input_buffer(ex->req);
  size_t len = evbuffer_get_length(input);
  /* made contiguous only when it is to be parsed */
  const char *body = must_be_object && len > 0 && len <= REGISTRY_MAX_BODY
                       ? (const char *)evbuffer_pullup(input, -1)
                       : NULL;
  int r = request_check_body(body, len, REGISTRY_MAX_BODY, must_be_object);

  if (r == -E2BIG)
    send_error(ex, 413, "too-large", "the request body is larger than 4096 bytes");
  else if (r < 0)
    send_error(ex, 400, "bad-json", "the request body must be a JSON object");
  return r < 0 ? -1 : 0;
}

#define TOKEN_REMEMBERED_MAX 128 /* ours are 64 hex digits */

/* A token's SHA-256, remembered for the last token each thread saw: a
 * client sends the same token with every request, and hashing it was an
 * eighth of a lookup's instructions. The comparison takes the same time
 * wherever the tokens differ, so it tells nothing of the one remembered. */
static void token_hash_of(const char *token, uint8_t out[HASH_SHA256_LEN])
{
  static __thread char last[TOKEN_REMEMBERED_MAX];
  static __thread size_t last_len;
  static __thread uint8_t last_hash[HASH_SHA256_LEN];
  size_t len = strlen(token);

  if (len > 0 && len == last_len && hash_equal_ct(token, last, len)) {
    memcpy(out, last_hash, HASH_SHA256_LEN);
    return;
  }
  hash_sha256(token, len, out);
  if (len <= sizeof last) {
    memcpy(last, token, len);
    last_len = len;
    memcpy(last_hash, out, HASH_SHA256_LEN);
  }
}

static void on_account_found(const struct backend_result *result, void *userdata)
{
  struct exchange *ex = userdata;

  if (result->error < 0) {
    send_backend_error(ex, result);
    return;
  }
  if (!result->found) {
    send_error(ex, 401, "unauthorized", "unknown token");
    return;
  }
  account_cache_put(ex->registry->accounts, ex->token_hash, result->account, ex->cache_generation);
  snprintf(ex->account, sizeof ex->account, "%s", result->account);
  ex->authenticated(ex);
}

/* Finds the account a Bearer token belongs to, then goes on with then();
 * answers 401 itself when there is none. */
static void authenticate(struct exchange *ex, void (*then)(struct exchange *ex))
{
  const char *token = request_bearer(evhttp_request_get_input_headers(ex->req));
  struct backend *backend = ex->registry->backend;

  if (!token) {
    send_error(ex, 401, "unauthorized", "a Bearer token is required");
    return;
  }
  token_hash_of(token, ex->token_hash);
  ex->authenticated = then;
  ex->cache_generation = account_cache_generation(ex->registry->accounts);
  if (account_cache_get(ex->registry->accounts, ex->token_hash, ex->account)) {
    then(ex);
    return;
  }
  backend->ops->find_account(backend, CALL_OF(ex, on_account_found), ex->token_hash);
}

static void on_account_created(const struct backend_result *result, void *userdata)
{
  struct exchange *ex = userdata;

  if (result->error < 0) {
    send_backend_error(ex, result);
    return;
  }
  log_info("created shadow account %s", result->account);
  send_json(ex, 201, "{\"account\":\"%s\",\"token\":\"%s\"}\n", result->account, ex->token_hex);
}

static void handle_create_account(struct exchange *ex)
{
  struct backend *backend = ex->registry->backend;
  uint8_t token[32], token_hash[HASH_SHA256_LEN];
  struct backend_result failed = {0};

  if (throttled(ex, throttle_account_creation(ex->registry->throttle, ex->req)) ||
      check_body(ex, 1) < 0)
    return;
  failed.error = hash_random_bytes(token, sizeof token);
  if (failed.error < 0) {
    send_backend_error(ex, &failed);
    return;
  }
  hash_hex_encode(token, sizeof token, ex->token_hex);
  explicit_bzero(token, sizeof token);
  hash_sha256(ex->token_hex, strlen(ex->token_hex), token_hash);
  backend->ops->create_account(backend, CALL_OF(ex, on_account_created), token_hash, now_ms());
}

static void on_lookup(const struct backend_result *result, void *userdata)
{
  struct exchange *ex = userdata;

  if (result->error < 0)
    send_backend_error(ex, result);
  else
    send_json_constant(ex, 200, status_bodies[result->status]);
}

static void send_stale(struct exchange *ex, uint64_t stored)
{
  send_json(ex, 409,
            "{\"error\":\"stale\",\"seq\":%" PRIu64
            ",\"message\":\"another request of this "
            "account with this or a higher Phonebind-Seq came first\"}\n",
            stored);
}

/* The request's Phonebind-Seq: 0 when it has none, else 1..2^64-1;
 * answers 400 bad-seq itself for junk or for the header sent twice. */
static int read_seq(struct exchange *ex, uint64_t *out_seq)
{
  int r = request_seq(evhttp_request_get_input_headers(ex->req), out_seq);

  if (r < 0)
    send_error(ex, 400, "bad-seq",
               "Phonebind-Seq must appear once, a decimal number from 1 to 2^64-1");
  return r;
}

static void on_claim(const struct backend_result *result, void *userdata)
{
  struct exchange *ex = userdata;

  if (result->error < 0) {
    send_backend_error(ex, result);
    return;
  }
  metrics_count_claim(result->claim);
  if (result->claim == CLAIM_STALE)
    send_stale(ex, result->seq);
  else if (result->claim == CLAIM_CONFLICT)
    send_json_constant(ex, 409,
                       "{\"status\":\"bound-to-other\",\"error\":\"bound-to-other\","
                       "\"message\":\"the terminal is bound to another client\"}\n");
  else
    send_json_constant(ex, result->claim == CLAIM_BOUND_NOW ? 201 : 200,
                       "{\"status\":\"bound-to-you\"}\n");
}

static void on_release(const struct backend_result *result, void *userdata)
{
  struct exchange *ex = userdata;

  if (result->error < 0)
    send_backend_error(ex, result);
  else if (result->release == RELEASE_STALE)
    send_stale(ex, result->seq);
  else if (result->release == RELEASE_DONE)
    send_reply(ex, 204, "application/json", NULL);
  else if (result->release == RELEASE_NOT_BOUND)
    send_error(ex, 404, "not-bound", "the terminal is not bound");
  else
    send_error(ex, 403, "not-owner", "the terminal is bound to another client");
}

/* The terminal's request, once the token named its account. */
static void run_terminal_request(struct exchange *ex)
{
  struct backend *backend = ex->registry->backend;
  const uint8_t *hash = ex->terminal_hash;

  if (throttled(ex, throttle_terminal_call(ex->registry->throttle, ex->account)))
    return;
  if (ex->route == ROUTE_TERMINAL)
    backend->ops->lookup(backend, CALL_OF(ex, on_lookup), hash, ex->account);
  else if (ex->method == METHOD_PUT)
    backend->ops->claim(backend, CALL_OF(ex, on_claim), hash, ex->account, ex->seq, now_ms());
  else
    backend->ops->release(backend, CALL_OF(ex, on_release), hash, ex->account, ex->seq, now_ms());
}

static void handle_terminal(struct exchange *ex, const struct route_match *match)
{
  if (check_body(ex, 0) < 0 || (match->route == ROUTE_BINDING && read_seq(ex, &ex->seq) < 0))
    return;
  hash_hmac_sha256_with(ex->registry->terminal_mac, match->terminal_id, match->terminal_id_len,
                        ex->terminal_hash);
  authenticate(ex, run_terminal_request);
}

static void on_health(const struct backend_result *result, void *userdata)
{
  struct exchange *ex = userdata;

  if (result->error < 0)
    send_backend_error(ex, result);
  else
    send_json(ex, 200, "{\"status\":\"ok\"}\n");
}

/* What a client needs to know of this registry: how often to renew. */
static void handle_info(struct exchange *ex)
{
  send_json(ex, 200, "{\"binding_ttl\":%" PRIu64 ",\"version\":\"%s\"}\n",
            ex->registry->binding_ttl_s, PHONEBIND_VERSION);
}

static void handle_metrics(struct exchange *ex)
{
  struct evbuffer *body = evbuffer_new();

  metrics_render(body);
  send_reply(ex, 200, "text/plain; version=0.0.4", body);
  evbuffer_free(body);
}

static void dispatch(struct exchange *ex, const struct route_match *match)
{
  struct backend *backend = ex->registry->backend;

  switch (match->route) {
  case ROUTE_ACCOUNTS:
    handle_create_account(ex);
    break;
  case ROUTE_TERMINAL:
  case ROUTE_BINDING:
    handle_terminal(ex, match);
    break;
  case ROUTE_HEALTHZ:
    backend->ops->health(backend, CALL_OF(ex, on_health));
    break;
  case ROUTE_METRICS:
    handle_metrics(ex);
    break;
  case ROUTE_INFO:
    handle_info(ex);
    break;
  default:
    send_error(ex, 404, "not-found", "no such resource");
  }
}

/* Before anything reads the request: 400, and the connection closed,
 * since where this request ended (and the next begins) is in doubt. */
static bool refuse_ambiguous_framing(struct exchange *ex)
{
  enum framing_verdict verdict = framing_check(evhttp_request_get_input_headers(ex->req));

  if (verdict == FRAMING_OK)
    return false;
  evhttp_add_header(evhttp_request_get_output_headers(ex->req), "Connection", "close");
  send_error(ex, 400, "bad-framing", framing_explain(verdict));
  return true;
}

static void handle_request(struct evhttp_request *req, void *arg)
{
  struct exchange *ex = xcalloc(1, sizeof *ex);
  const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
  const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
  struct route_match match;

  ex->req = req;
  ex->registry = arg;
  ex->base = evhttp_connection_get_base(evhttp_request_get_connection(req));
  ex->route = ROUTE_NONE;
  ex->method = method_of(req);
  ex->started = monotonic_seconds();
  if (refuse_ambiguous_framing(ex))
    return;
  if (!path) {
    send_error(ex, 400, "bad-request", "the request target is not a path");
    return;
  }
  switch (router_match(ex->method, path, strlen(path), &match)) {
  case ROUTE_OK:
    ex->route = match.route;
    dispatch(ex, &match);
    break;
  case ROUTE_NOT_FOUND:
    send_error(ex, 404, "not-found", "no such resource");
    break;
  case ROUTE_BAD_METHOD:
    ex->route = match.route;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                      router_allowed_methods(match.route));
    send_error(ex, 405, "method-not-allowed", "the method is not allowed on this resource");
    break;
  case ROUTE_BAD_ID:
    ex->route = match.route;
    send_error(ex, 400, "bad-terminal-id",
               "the terminal identifier is not usb:<4 lowercase hex>:<serial> or "
               "imei:<15 digits>");
    break;
  }
}

void http_configure(struct evhttp *http, struct registry *registry)
{
  evhttp_set_max_body_size(http, REGISTRY_MAX_EVHTTP_BODY);
  evhttp_set_max_headers_size(http, REGISTRY_MAX_HEADERS);
  evhttp_set_timeout(http, REGISTRY_TIMEOUT_S);
  evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                     EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS |
                                     EVHTTP_REQ_PATCH);
  evhttp_set_gencb(http, handle_request, registry);
}
