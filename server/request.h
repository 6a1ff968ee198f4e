/* What the registry reads from a request besides its path (router.h):
 * Phonebind-Seq, the Bearer token, the body's size and shape. Pure
 * functions over the headers evhttp parsed and the body's bytes, so the
 * fuzzer (fuzz/fuzz_registry_request.c) meets them as the handlers do. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evkeyvalq;

/* Phonebind-Seq: 0 when absent (*out_seq 0), 1 with *out_seq from 1 to
 * 2^64 - 1, -EINVAL for junk or the header given twice. */
int request_seq(const struct evkeyvalq *headers, uint64_t *out_seq);

/* The token of "Authorization: Bearer TOKEN" (the scheme in any case), a
 * pointer into headers; NULL when there is none or it is empty. */
const char *request_bearer(const struct evkeyvalq *headers);

/* A body: at most max bytes (else -E2BIG: 413); when must_be_object and
 * not empty, one JSON object (else -EBADMSG: 400). 0 when fine. */
int request_check_body(const char *body, size_t len, size_t max, bool must_be_object);
