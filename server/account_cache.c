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
  uint64_t generation;     /* moved by every forget */
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

uint64_t account_cache_generation(struct account_cache *cache)
{
  uint64_t generation;

  pthread_rwlock_rdlock(&cache->lock);
  generation = cache->generation;
  pthread_rwlock_unlock(&cache->lock);
  return generation;
}

void account_cache_put(struct account_cache *cache, const uint8_t token_hash[HASH_SHA256_LEN],
                       const char *account, uint64_t generation)
{
  char key[HASH_SHA256_HEX_LEN + 1];
  char *copy = xstrdup(account), *old = NULL;

  hash_hex_encode(token_hash, HASH_SHA256_LEN, key);
  pthread_rwlock_wrlock(&cache->lock);
  if (generation == cache->generation) {
    old = strmap_get(cache->accounts, key);
    strmap_put(cache->accounts, key, copy);
    copy = NULL;
  }
  pthread_rwlock_unlock(&cache->lock);
  free(old);
  free(copy);
}

struct forget_walk {
  const char *account;
  char **keys; /* of the entries to drop */
  size_t count;
};

static void collect(const char *key, void *value, void *userdata)
{
  struct forget_walk *walk = userdata;

  if (!walk->account || strcmp(value, walk->account) == 0)
    walk->keys[walk->count++] = xstrdup(key);
}

void account_cache_forget_account(struct account_cache *cache, const char *account)
{
  struct forget_walk walk = {.account = account};

  pthread_rwlock_wrlock(&cache->lock);
  cache->generation++;
  walk.keys = xcalloc(strmap_size(cache->accounts) + 1, sizeof *walk.keys);
  strmap_foreach(cache->accounts, collect, &walk);
  for (size_t i = 0; i < walk.count; i++) {
    free(strmap_remove(cache->accounts, walk.keys[i]));
    free(walk.keys[i]);
  }
  pthread_rwlock_unlock(&cache->lock);
  free(walk.keys);
}
