/* The hashes of bound terminals as a Bloom filter: answers "certainly not
 * bound" without the database and without its lock, which is the answer
 * for every phone new to the registry. A "maybe" goes to the database.
 *
 * Only for a backend that is the sole writer of its data (SQLite with an
 * exclusive lock): a binding another process makes would be missed.
 * Releases leave their bits set; that only costs a database lookup. */
#pragma once

#include "hash.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bound_filter;

/* Sized for `expected` hashes at about 1% false "maybe". Beyond that it
 * grows (a layer twice the size of the last, about 1% more each), so it
 * never needs the database read again. */
struct bound_filter *bound_filter_new(size_t expected);
void bound_filter_free(struct bound_filter *filter);

/* Adds must be serialised among themselves (the backend's write lock);
 * bound_filter_may_contain() may run alongside them in any thread. */
void bound_filter_add(struct bound_filter *filter, const uint8_t hash[HASH_SHA256_LEN]);
bool bound_filter_may_contain(const struct bound_filter *filter,
                              const uint8_t hash[HASH_SHA256_LEN]);
