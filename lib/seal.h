/* Sealing a small secret with a key: AES-256-GCM under a key derived
 * from the caller's (HMAC-SHA-256 with a purpose string), a fresh random
 * nonce each time. For what must be kept but never in the clear: the
 * identifier of a phone whose release is still pending (an IMEI). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SEAL_OVERHEAD 28 /* nonce 12 + tag 16 */

/* out (malloc'd, *out_len = len + SEAL_OVERHEAD bytes) holds nonce,
 * ciphertext and tag. 0 or -errno. */
int seal_data(const uint8_t *key, size_t key_len, const void *data, size_t len, uint8_t **out,
              size_t *out_len);
/* The inverse; -EBADMSG when the blob was not sealed with this key or
 * was changed. out (malloc'd, NUL-terminated for convenience) has
 * *out_len = len - SEAL_OVERHEAD bytes. */
int seal_open(const uint8_t *key, size_t key_len, const uint8_t *sealed, size_t len, uint8_t **out,
              size_t *out_len);
