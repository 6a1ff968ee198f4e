/* Hashing, randomness and constant-time comparison (OpenSSL's libcrypto). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HASH_SHA256_LEN 32
#define HASH_SHA256_HEX_LEN 64

/* Fills buf from the kernel's CSPRNG; 0 or -errno. */
int hash_random_bytes(void *buf, size_t len);

/* Abort only when libcrypto cannot work at all (no memory, no provider). */
void hash_sha256(const void *data, size_t len, uint8_t out[HASH_SHA256_LEN]);
void hash_hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
                      uint8_t out[HASH_SHA256_LEN]);

/* A key prepared once for many MACs (a request path's): a fifth of the
 * cost of hash_hmac_sha256(). Usable from several threads at once; each
 * keeps a working copy that is freed when the thread ends, so free the
 * key only after the other threads that used it have ended. */
struct hash_hmac_key;
struct hash_hmac_key *hash_hmac_key_new(const uint8_t *key, size_t key_len);
void hash_hmac_key_free(struct hash_hmac_key *prepared);
void hash_hmac_sha256_with(const struct hash_hmac_key *prepared, const void *data, size_t len,
                           uint8_t out[HASH_SHA256_LEN]);

/* Lower-case hex; out must hold 2 * len + 1 bytes. */
void hash_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes exactly out_len bytes from 2 * out_len hex digits; 0 or -EINVAL. */
int hash_hex_decode(const char *hex, uint8_t *out, size_t out_len);

/* True when the two buffers are equal; time depends only on len. */
bool hash_equal_ct(const void *a, const void *b, size_t len);
