/* AES-256-GCM sealing; see seal.h. */
#include "seal.h"

#include "hash.h"
#include "xalloc.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define NONCE_LEN 12
#define TAG_LEN 16

static void derive_key(const uint8_t *key, size_t key_len, uint8_t out[HASH_SHA256_LEN])
{
  static const char purpose[] = "phonebind seal v1";

  hash_hmac_sha256(key, key_len, purpose, sizeof purpose - 1, out);
}

/* One pass of GCM either way; false on any failure (a bad tag too). */
static int gcm(int encrypt, const uint8_t *key, size_t key_len, const uint8_t nonce[NONCE_LEN],
               const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[TAG_LEN])
{
  uint8_t derived[HASH_SHA256_LEN];
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int n = 0, ok;

  derive_key(key, key_len, derived);
  ok = ctx && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, derived, nonce, encrypt) &&
       EVP_CipherUpdate(ctx, out, &n, in, (int)len) &&
       (encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag)) &&
       EVP_CipherFinal_ex(ctx, out + n, &n) &&
       (!encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag));
  EVP_CIPHER_CTX_free(ctx);
  explicit_bzero(derived, sizeof derived);
  return ok ? 0 : -EBADMSG;
}

int seal_data(const uint8_t *key, size_t key_len, const void *data, size_t len, uint8_t **out,
              size_t *out_len)
{
  uint8_t *sealed = xmalloc(len + SEAL_OVERHEAD);
  int r = hash_random_bytes(sealed, NONCE_LEN);

  if (r == 0)
    r = gcm(1, key, key_len, sealed, data, len, sealed + NONCE_LEN, sealed + NONCE_LEN + len);
  if (r < 0) {
    free(sealed);
    return r == -EBADMSG ? -EIO : r;
  }
  *out = sealed;
  *out_len = len + SEAL_OVERHEAD;
  return 0;
}

int seal_open(const uint8_t *key, size_t key_len, const uint8_t *sealed, size_t len, uint8_t **out,
              size_t *out_len)
{
  uint8_t tag[TAG_LEN], *plain;
  size_t plain_len;
  int r;

  if (len < SEAL_OVERHEAD)
    return -EBADMSG;
  plain_len = len - SEAL_OVERHEAD;
  plain = xmalloc(plain_len + 1);
  memcpy(tag, sealed + NONCE_LEN + plain_len, TAG_LEN);
  r = gcm(0, key, key_len, sealed, sealed + NONCE_LEN, plain_len, plain, tag);
  if (r < 0) {
    free(plain);
    return r;
  }
  plain[plain_len] = '\0';
  *out = plain;
  *out_len = plain_len;
  return 0;
}
