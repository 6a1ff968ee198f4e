/* Terminal handles; see handle.h. */
#include "handle.h"

#include "hash.h"
#include "xalloc.h"

#include <stdio.h>
#include <string.h>

static void handle_from_seed(const struct handle_key *key, const char *seed, char *out)
{
  uint8_t mac[HASH_SHA256_LEN];

  if (key->prepared)
    hash_hmac_sha256_with(key->prepared, seed, strlen(seed), mac);
  else
    hash_hmac_sha256(key->bytes, sizeof key->bytes, seed, strlen(seed), mac);
  hash_hex_encode(mac, HANDLE_LEN / 2, out);
}

void handle_key_prepare(struct handle_key *key)
{
  hash_hmac_key_free(key->prepared);
  key->prepared = hash_hmac_key_new(key->bytes, sizeof key->bytes);
}

void handle_key_clear(struct handle_key *key)
{
  hash_hmac_key_free(key->prepared);
  key->prepared = NULL;
}

void handle_of_id(const struct handle_key *key, const char *terminal_id, char *out)
{
  _cleanup_free_ char *seed = xasprintf("id:%s", terminal_id);

  handle_from_seed(key, seed, out);
}

void handle_of_unidentified(const struct handle_key *key, const char *vendor_id,
                            const char *syspath, char *out)
{
  _cleanup_free_ char *seed = xasprintf("unidentified:%s:%s", vendor_id, syspath);

  handle_from_seed(key, seed, out);
}

void handle_name_of(const char *terminal_id, char *out, size_t out_size, void *key)
{
  char handle[HANDLE_LEN + 1];

  handle_of_id(key, terminal_id, handle);
  snprintf(out, out_size, "%s", handle);
}
