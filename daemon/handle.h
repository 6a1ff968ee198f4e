/* A terminal's handle: the last part of its D-Bus object path and its
 * name in the log. Keyed (HMAC with the store's key), so it says nothing
 * of the identifier; stable, so one phone has one object path on this PC
 * across restarts. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define HANDLE_LEN 16
#define HANDLE_KEY_LEN 32

struct handle_key {
  uint8_t bytes[HANDLE_KEY_LEN];
};

/* out: HANDLE_LEN hex digits and a NUL. */
void handle_of_id(const struct handle_key *key, const char *terminal_id, char *out);
/* A phone without an identifier: by its vendor and USB port. */
void handle_of_unidentified(const struct handle_key *key, const char *vendor_id,
                            const char *syspath, char *out);
/* handle_of_id in the shape the releaser's name_of wants (userdata: the key). */
void handle_name_of(const char *terminal_id, char *out, size_t out_size, void *key);
