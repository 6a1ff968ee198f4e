/* Request handling: route, authenticate, call the backend, answer JSON.
 * Handlers answer within the callback; nothing is left in flight across
 * loop iterations but the write of the answer. */
#include "http.h"

#include "account_cache.h"
#include "fence.h"
#include "hash.h"
#include "log.h"
#include "metrics.h"
#include "router.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
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

/* What one request became; recorded once, when it is answered. */
struct exchange {
  struct evhttp_request *req;
  enum route route;
  double started;
};

/* The Date header (RFC 9110's IMF-fixdate). evhttp formats one for every
 * answer when none is set; within a second they are all the same, so each
 * thread formats it once a second instead. */
static const char *http_date(void)
{
  static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static __thread time_t formatted_at;
  static __thread char date[32];
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

static void send_backend_error(struct exchange *ex, int r)
{
  log_err("%s: storage failed: %s", router_template(ex->route), strerror(-r));
  if (r == -ENOSPC)
    send_error(ex, 503, "storage-full", "the registry's storage is full");
  else
    send_error(ex, 500, "storage-error", "the registry could not read or write its storage");
}

/* Body limits and shape: optional, and when present a JSON object. */
static int check_body(struct exchange *ex, int must_be_object)
{
  struct evbuffer *input = evhttp_request_get_input_buffer(ex->req);
  size_t len = evbuffer_get_length(input);
  json_error_t error;
  json_t *json;

  if (len > REGISTRY_MAX_BODY) {
    send_error(ex, 413, "too-large", "the request body is larger than 4096 bytes");
    return -1;
  }
  if (len == 0 || !must_be_object)
    return 0;
  json = json_loadb((const char *)evbuffer_pullup(input, -1), len, 0, &error);
  if (!json || !json_is_object(json)) {
    json_decref(json);
    send_error(ex, 400, "bad-json", "the request body must be a JSON object");
    return -1;
  }
  json_decref(json);
  return 0;
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

/* The account a Bearer token belongs to; answers 401 itself when none. */
static int authenticate(struct exchange *ex, struct registry *registry,
                        char account[ACCOUNT_ID_MAX])
{
  const char *auth = evhttp_find_header(evhttp_request_get_input_headers(ex->req), "Authorization");
  uint8_t token_hash[HASH_SHA256_LEN];
  int r;

  if (!auth || strncasecmp(auth, "Bearer ", 7) != 0 || auth[7] == '\0') {
    send_error(ex, 401, "unauthorized", "a Bearer token is required");
    return -1;
  }
  token_hash_of(auth + 7, token_hash);
  if (account_cache_get(registry->accounts, token_hash, account))
    return 0;
  r = registry->backend->ops->find_account(registry->backend, token_hash, account);
  if (r == 1)
    account_cache_put(registry->accounts, token_hash, account);
  if (r < 0) {
    send_backend_error(ex, r);
    return -1;
  }
  if (r == 0) {
    send_error(ex, 401, "unauthorized", "unknown token");
    return -1;
  }
  return 0;
}

static void handle_create_account(struct exchange *ex, struct registry *registry)
{
  uint8_t token[32], token_hash[HASH_SHA256_LEN];
  char token_hex[2 * sizeof token + 1], account[ACCOUNT_ID_MAX];
  int r;

  if (check_body(ex, 1) < 0)
    return;
  r = hash_random_bytes(token, sizeof token);
  if (r == 0) {
    hash_hex_encode(token, sizeof token, token_hex);
    hash_sha256(token_hex, strlen(token_hex), token_hash);
    r = registry->backend->ops->create_account(registry->backend, token_hash, now_ms(), account);
  }
  if (r < 0) {
    send_backend_error(ex, r);
    return;
  }
  log_info("created shadow account %s", account);
  send_json(ex, 201, "{\"account\":\"%s\",\"token\":\"%s\"}\n", account, token_hex);
}

static void handle_lookup(struct exchange *ex, struct registry *registry, const uint8_t *hash,
                          const char *account)
{
  enum binding_status status;
  int r = registry->backend->ops->lookup(registry->backend, hash, account, &status);

  if (r < 0)
    send_backend_error(ex, r);
  else
    send_json_constant(ex, 200, status_bodies[status]);
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
  const struct evkeyvalq *headers = evhttp_request_get_input_headers(ex->req);
  const struct evkeyval *header;
  int seen = 0, r = 0;

  *out_seq = 0;
  for (header = headers->tqh_first; header; header = header->next.tqe_next) {
    if (strcasecmp(header->key, "Phonebind-Seq") != 0)
      continue;
    if (++seen > 1 || (r = fence_parse_seq(header->value, out_seq)) < 0) {
      send_error(ex, 400, "bad-seq",
                 "Phonebind-Seq must appear once, a decimal number from 1 to 2^64-1");
      return -1;
    }
  }
  return r;
}

static void handle_claim(struct exchange *ex, struct registry *registry, const uint8_t *hash,
                         const char *account, uint64_t seq)
{
  enum claim_result result;
  uint64_t stored = 0;
  int r = registry->backend->ops->claim(registry->backend, hash, account, seq, now_ms(), &result,
                                        &stored);

  if (r < 0) {
    send_backend_error(ex, r);
    return;
  }
  metrics_count_claim(result);
  if (result == CLAIM_STALE)
    send_stale(ex, stored);
  else if (result == CLAIM_CONFLICT)
    send_json_constant(ex, 409,
                       "{\"status\":\"bound-to-other\",\"error\":\"bound-to-other\","
                       "\"message\":\"the terminal is bound to another client\"}\n");
  else
    send_json_constant(ex, result == CLAIM_BOUND_NOW ? 201 : 200,
                       "{\"status\":\"bound-to-you\"}\n");
}

static void handle_release(struct exchange *ex, struct registry *registry, const uint8_t *hash,
                           const char *account, uint64_t seq)
{
  enum release_result result;
  uint64_t stored = 0;
  int r = registry->backend->ops->release(registry->backend, hash, account, seq, now_ms(), &result,
                                          &stored);

  if (r < 0)
    send_backend_error(ex, r);
  else if (result == RELEASE_STALE)
    send_stale(ex, stored);
  else if (result == RELEASE_DONE)
    send_reply(ex, 204, "application/json", NULL);
  else if (result == RELEASE_NOT_BOUND)
    send_error(ex, 404, "not-bound", "the terminal is not bound");
  else
    send_error(ex, 403, "not-owner", "the terminal is bound to another client");
}

static void handle_terminal(struct exchange *ex, struct registry *registry,
                            const struct route_match *match, enum http_method method)
{
  char account[ACCOUNT_ID_MAX];
  uint8_t hash[HASH_SHA256_LEN];
  uint64_t seq = 0;

  if (check_body(ex, 0) < 0 || (match->route == ROUTE_BINDING && read_seq(ex, &seq) < 0) ||
      authenticate(ex, registry, account) < 0)
    return;
  hash_hmac_sha256_with(registry->terminal_mac, match->terminal_id, match->terminal_id_len, hash);
  if (match->route == ROUTE_TERMINAL)
    handle_lookup(ex, registry, hash, account);
  else if (method == METHOD_PUT)
    handle_claim(ex, registry, hash, account, seq);
  else
    handle_release(ex, registry, hash, account, seq);
}

static void handle_metrics(struct exchange *ex)
{
  struct evbuffer *body = evbuffer_new();

  metrics_render(body);
  send_reply(ex, 200, "text/plain; version=0.0.4", body);
  evbuffer_free(body);
}

static void dispatch(struct exchange *ex, struct registry *registry,
                     const struct route_match *match, enum http_method method)
{
  switch (match->route) {
  case ROUTE_ACCOUNTS:
    handle_create_account(ex, registry);
    break;
  case ROUTE_TERMINAL:
  case ROUTE_BINDING:
    handle_terminal(ex, registry, match, method);
    break;
  case ROUTE_HEALTHZ:
    send_json(ex, 200, "{\"status\":\"ok\"}\n");
    break;
  case ROUTE_METRICS:
    handle_metrics(ex);
    break;
  default:
    send_error(ex, 404, "not-found", "no such resource");
  }
}

static void handle_request(struct evhttp_request *req, void *arg)
{
  struct exchange ex = {.req = req, .route = ROUTE_NONE, .started = monotonic_seconds()};
  const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
  const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
  enum http_method method = method_of(req);
  struct route_match match;

  if (!path) {
    send_error(&ex, 400, "bad-request", "the request target is not a path");
    return;
  }
  switch (router_match(method, path, strlen(path), &match)) {
  case ROUTE_OK:
    ex.route = match.route;
    dispatch(&ex, arg, &match, method);
    break;
  case ROUTE_NOT_FOUND:
    send_error(&ex, 404, "not-found", "no such resource");
    break;
  case ROUTE_BAD_METHOD:
    ex.route = match.route;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                      router_allowed_methods(match.route));
    send_error(&ex, 405, "method-not-allowed", "the method is not allowed on this resource");
    break;
  case ROUTE_BAD_ID:
    ex.route = match.route;
    send_error(&ex, 400, "bad-terminal-id",
               "the terminal identifier is malformed or longer than 256 bytes");
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
