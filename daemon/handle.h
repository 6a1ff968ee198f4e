/* A terminal's handle: the last part of its D-Bus object path and its
 * name in the log. Keyed (HMAC with the store's key), so it says nothing
 * of the identifier; stable, so one phone has one object path on this PC
 * across restarts. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define HANDLE_LEN 16
#define HANDLE_KEY_LEN 32

struct hash_hmac_key;

struct handle_key {
  uint8_t bytes[HANDLE_KEY_LEN];
  struct hash_hmac_key *prepared; /* NULL: the bytes keyed again for every handle */
};

/* Once the bytes are set: a handle is then an HMAC with the key prepared
 * (6k instructions) instead of a one-shot HMAC keyed anew (19k), on the
 * way of every attach. handle_key_clear frees it. */
void handle_key_prepare(struct handle_key *key);
void handle_key_clear(struct handle_key *key);

/* out: HANDLE_LEN hex digits and a NUL. */
void handle_of_id(const struct handle_key *key, const char *terminal_id, char *out);
/* A phone without an identifier: by its vendor and USB port. */
void handle_of_unidentified(const struct handle_key *key, const char *vendor_id,
                            const char *syspath, char *out);
/* handle_of_id in the shape the releaser's name_of wants (userdata: the key). */
void handle_name_of(const char *terminal_id, char *out, size_t out_size, void *key);
