/* Reading the registry's answers: the status, the headers that matter
 * and the JSON body, into a struct registry_answer. Pure (no I/O), so it
 * is fuzzed (fuzz/fuzz_registry_answer.c); registry_client.c feeds it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;

enum registry_outcome {
  REGISTRY_ANSWERED,    /* an HTTP status this module understands (see below) */
  REGISTRY_UNREACHABLE, /* no connection, a timeout, or a transport error */
  REGISTRY_BAD_ANSWER,  /* 5xx, an unexpected status, or a body that does not parse */
};

enum registry_status {
  REGISTRY_STATUS_NONE,
  REGISTRY_STATUS_UNBOUND,
  REGISTRY_STATUS_BOUND_TO_YOU,
  REGISTRY_STATUS_BOUND_TO_OTHER,
};

/* What a call came back with. Pointers are borrowed: valid only for the
 * duration of the callback; copy what you keep. */
struct registry_answer {
  enum registry_outcome outcome;
  long http_status;            /* 0 when there was no HTTP answer */
  enum registry_status status; /* lookup: from the body; claim: 409 → BOUND_TO_OTHER */
  const char *account;         /* create_account: the new shadow account */
  const char *token;           /* create_account: its bearer token */
  const char *error;           /* a short reason for the log, never NULL */
  /* Certainly had no effect on the registry: never sent (no connection,
   * no name, a TLS failure before the request), or answered 503. Only
   * releases are judged this strictly (they never reuse a connection,
   * so a connection refused cannot hide a request sent before it). */
  bool not_done;
  uint64_t stale_seq;     /* claim and release: 409 "stale", the registry's sequence; else 0 */
  unsigned retry_after_s; /* 429 or 503: the registry's Retry-After (seconds); else 0 */
  uint64_t binding_ttl_s; /* info: how long an unrenewed binding lasts; 0: for ever */
};

/* Statuses per call when outcome is REGISTRY_ANSWERED:
 *   lookup:         200 (status set), 401
 *   claim:          201 bound now, 200 already ours (renewed), 409 bound to other
 *                   (status BOUND_TO_OTHER) or stale (stale_seq set), 401
 *   release:        204 released, 404 not bound, 403 bound to someone else,
 *                   409 stale (stale_seq set), 401
 *   create_account: 201 (account and token set)
 *   info:           200 (binding_ttl_s set), 404 (a registry older than
 *                   /v1/info, whose bindings never lapse: binding_ttl_s 0) */

enum registry_call_kind {
  REGISTRY_CALL_LOOKUP,
  REGISTRY_CALL_CLAIM,
  REGISTRY_CALL_RELEASE,
  REGISTRY_CALL_CREATE_ACCOUNT,
  REGISTRY_CALL_INFO,
};

/* An HTTP answer that arrived (status, body of len bytes, or overflow
 * when it was over the limit) into answer, whose strings then point into
 * *out_json: json_decref it when done (it may be NULL). */
void registry_answer_read(enum registry_call_kind kind, long http_status, const char *body,
                          size_t len, bool overflow, struct registry_answer *answer,
                          struct json_t **out_json);
/* One header line: true and *out_seconds when it is a Retry-After in
 * seconds (the HTTP-date form is no hint; capped at an hour). */
bool registry_answer_retry_after(const char *line, size_t len, unsigned *out_seconds);
