/* Thin wrappers over libcrypto so the rest of the code never sees OpenSSL. */
#include "hash.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sys/random.h>

int hash_random_bytes(void *buf, size_t len)
{
  uint8_t *p = buf;

  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

void hash_sha256(const void *data, size_t len, uint8_t out[HASH_SHA256_LEN])
{
  SHA256(data, len, out);
}

void hash_hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
                      uint8_t out[HASH_SHA256_LEN])
{
  unsigned int out_len = HASH_SHA256_LEN;

  HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len);
}

void hash_hex_encode(const uint8_t *in, size_t len, char *out)
{
  static const char digits[] = "0123456789abcdef";

  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0xf];
  }
  out[2 * len] = '\0';
}

static int hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int hash_hex_decode(const char *hex, uint8_t *out, size_t out_len)
{
  for (size_t i = 0; i < out_len; i++) {
    int hi = hex_value(hex[2 * i]);
    int lo = hi < 0 ? -1 : hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return -EINVAL;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return hex[2 * out_len] == '\0' ? 0 : -EINVAL;
}

bool hash_equal_ct(const void *a, const void *b, size_t len)
{
  return CRYPTO_memcmp(a, b, len) == 0;
}
