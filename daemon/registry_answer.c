/* Reading the registry's answers; see registry_answer.h. */
#include "registry_answer.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static enum registry_status status_from_name(const char *name)
{
  if (!name)
    return REGISTRY_STATUS_NONE;
  if (strcmp(name, "unbound") == 0)
    return REGISTRY_STATUS_UNBOUND;
  if (strcmp(name, "bound-to-you") == 0)
    return REGISTRY_STATUS_BOUND_TO_YOU;
  if (strcmp(name, "bound-to-other") == 0)
    return REGISTRY_STATUS_BOUND_TO_OTHER;
  return REGISTRY_STATUS_NONE;
}

static bool status_expected(enum registry_call_kind kind, long status)
{
  switch (kind) {
  case REGISTRY_CALL_LOOKUP:
    return status == 200 || status == 401;
  case REGISTRY_CALL_CLAIM:
    return status == 200 || status == 201 || status == 409 || status == 401;
  case REGISTRY_CALL_RELEASE:
    return status == 204 || status == 403 || status == 404 || status == 409 || status == 401;
  case REGISTRY_CALL_CREATE_ACCOUNT:
    return status == 201;
  case REGISTRY_CALL_INFO:
    return status == 200 || status == 404;
  }
  return false;
}

/* A 409: "stale" with the registry's sequence (claim or release), or, for
 * a claim, another client's binding. */
static bool parse_conflict(enum registry_call_kind kind, json_t *json,
                           struct registry_answer *answer)
{
  const char *error = json_string_value(json_object_get(json, "error"));
  json_t *seq = json_object_get(json, "seq");

  if (error && strcmp(error, "stale") == 0) {
    if (!json_is_integer(seq) || json_integer_value(seq) <= 0)
      return false;
    answer->stale_seq = (uint64_t)json_integer_value(seq);
    return true;
  }
  if (kind != REGISTRY_CALL_CLAIM)
    return false;
  answer->status = REGISTRY_STATUS_BOUND_TO_OTHER;
  return true;
}

/* GET /v1/info: {"binding_ttl": seconds, "version": …}; 0 is "never". */
static bool parse_info(json_t *json, struct registry_answer *answer)
{
  json_t *ttl = json_object_get(json, "binding_ttl");

  if (!json_is_integer(ttl) || json_integer_value(ttl) < 0)
    return false;
  answer->binding_ttl_s = (uint64_t)json_integer_value(ttl);
  return true;
}

/* Fills the JSON-borne parts of an answer; false when the body does not
 * hold what the status promised. json stays referenced by the caller. */
static bool parse_body(enum registry_call_kind kind, json_t *json, struct registry_answer *answer)
{
  if (kind == REGISTRY_CALL_LOOKUP && answer->http_status == 200) {
    answer->status = status_from_name(json_string_value(json_object_get(json, "status")));
    return answer->status != REGISTRY_STATUS_NONE;
  }
  if (kind == REGISTRY_CALL_CREATE_ACCOUNT) {
    answer->account = json_string_value(json_object_get(json, "account"));
    answer->token = json_string_value(json_object_get(json, "token"));
    return answer->account && answer->token;
  }
  if (kind == REGISTRY_CALL_INFO && answer->http_status == 200)
    return parse_info(json, answer);
  if (answer->http_status == 409)
    return parse_conflict(kind, json, answer);
  return true;
}

static bool needs_body(enum registry_call_kind kind, long status)
{
  return ((kind == REGISTRY_CALL_LOOKUP || kind == REGISTRY_CALL_INFO) && status == 200) ||
         kind == REGISTRY_CALL_CREATE_ACCOUNT || status == 409;
}

void registry_answer_read(enum registry_call_kind kind, long http_status, const char *body,
                          size_t len, bool overflow, struct registry_answer *answer,
                          json_t **out_json)
{
  bool parsed;

  *out_json = NULL;
  answer->http_status = http_status;
  if (overflow) {
    answer->outcome = REGISTRY_BAD_ANSWER;
    answer->error = "answer too large";
    return;
  }
  if (!status_expected(kind, http_status)) {
    answer->outcome = REGISTRY_BAD_ANSWER;
    answer->error = http_status == 429   ? "too many requests"
                    : http_status >= 500 ? "server error"
                                         : "unexpected status";
    answer->not_done = http_status == 503;
    return;
  }
  if (needs_body(kind, http_status)) {
    *out_json = body ? json_loadb(body, len, 0, NULL) : NULL;
    parsed = *out_json && parse_body(kind, *out_json, answer);
  } else {
    parsed = parse_body(kind, NULL, answer);
  }
  answer->outcome = parsed ? REGISTRY_ANSWERED : REGISTRY_BAD_ANSWER;
  answer->error = parsed ? "ok" : "malformed answer";
}

bool registry_answer_retry_after(const char *line, size_t len, unsigned *out_seconds)
{
  static const char name[] = "retry-after:";
  const size_t name_len = sizeof name - 1;
  const char *p = line + name_len, *stop = line + len;
  unsigned long seconds = 0;

  if (len <= name_len || strncasecmp(line, name, name_len) != 0)
    return false;
  while (p < stop && *p == ' ')
    p++;
  if (p == stop || *p < '0' || *p > '9')
    return false;
  for (; p < stop && *p >= '0' && *p <= '9'; p++)
    if (seconds <= 3600)
      seconds = seconds * 10 + (unsigned long)(*p - '0');
  while (p < stop && (*p == ' ' || *p == '\r' || *p == '\n'))
    p++;
  if (p != stop)
    return false;
  *out_seconds = seconds > 3600 ? 3600 : (unsigned)seconds;
  return true;
}
