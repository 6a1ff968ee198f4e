/* The account cache; see account_cache.h. */
#include "account_cache.h"

#include "strmap.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct account_cache {
  pthread_rwlock_t lock;
  struct strmap *accounts; /* hex token hash → malloc'd account id */
};

struct account_cache *account_cache_new(void)
{
  struct account_cache *cache = xcalloc(1, sizeof *cache);

  pthread_rwlock_init(&cache->lock, NULL);
  cache->accounts = strmap_new();
  return cache;
}

static void free_value(const char *key, void *value, void *userdata)
{
  (void)key;
  (void)userdata;
  free(value);
}

void account_cache_free(struct account_cache *cache)
{
  if (!cache)
    return;
  strmap_foreach(cache->accounts, free_value, NULL);
  strmap_free(cache->accounts);
  pthread_rwlock_destroy(&cache->lock);
  free(cache);
}

int account_cache_get(struct account_cache *cache, const uint8_t token_hash[HASH_SHA256_LEN],
                      char out_account[ACCOUNT_ID_MAX])
{
  char key[HASH_SHA256_HEX_LEN + 1];
  const char *account;

  hash_hex_encode(token_hash, HASH_SHA256_LEN, key);
  pthread_rwlock_rdlock(&cache->lock);
  account = strmap_get(cache->accounts, key);
  if (account)
    snprintf(out_account, ACCOUNT_ID_MAX, "%s", account);
  pthread_rwlock_unlock(&cache->lock);
  return account != NULL;
}

void account_cache_put(struct account_cache *cache, const uint8_t token_hash[HASH_SHA256_LEN],
                       const char *account)
{
  char key[HASH_SHA256_HEX_LEN + 1];
  char *copy = xstrdup(account), *old;

  hash_hex_encode(token_hash, HASH_SHA256_LEN, key);
  pthread_rwlock_wrlock(&cache->lock);
  old = strmap_get(cache->accounts, key);
  strmap_put(cache->accounts, key, copy);
  pthread_rwlock_unlock(&cache->lock);
  free(old);
}
