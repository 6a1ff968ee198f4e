/* Token buckets by key (a client address, an account): N per minute with
 * bursts of up to N, for the registry's abuse limits (rate-accounts,
 * rate-requests). One table per limit, shared by the HTTP threads under a
 * mutex; its size is fixed, so memory stays bounded whoever asks. */
#pragma once

#include <stddef.h>

struct rate_limit;

/* per_minute: 0 means no limit (NULL is returned, and accepted below).
 * slots: the table's size, rounded up to a power of two. */
struct rate_limit *rate_limit_new(unsigned per_minute, size_t slots);
void rate_limit_free(struct rate_limit *limit);

/* Takes one token of key's bucket at time now (monotonic seconds).
 * Returns 0 when granted, else the seconds (1 or more) until a token is
 * there: the Retry-After to send. */
unsigned rate_limit_take(struct rate_limit *limit, const void *key, size_t key_len, double now);
