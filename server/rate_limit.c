/* Token buckets; see rate_limit.h. A bucket is a slot in a fixed table,
 * found by a keyed hash of its key (a key of the table's own, drawn at
 * start: nobody can choose keys that collide). A key is looked for in a
 * short window of slots; a new key takes an empty one, else the one
 * nearest to full, which loses the least when forgotten: a bucket that
 * refilled to full is the same as no bucket. */
#include "rate_limit.h"

#include "hash.h"
#include "xalloc.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PROBES 8

struct bucket {
  uint64_t tag; /* 0: empty */
  double tokens;
  double updated; /* monotonic seconds */
};

struct rate_limit {
  pthread_mutex_t lock;
  double per_second, burst;
  size_t mask;
  struct hash_hmac_key *key;
  struct bucket *buckets;
};

struct rate_limit *rate_limit_new(unsigned per_minute, size_t slots)
{
  struct rate_limit *limit;
  uint8_t key[32];
  size_t size = PROBES;

  if (per_minute == 0)
    return NULL;
  while (size < slots)
    size *= 2;
  if (hash_random_bytes(key, sizeof key) < 0)
    abort(); /* no CSPRNG: nothing else in the registry works either */
  limit = xcalloc(1, sizeof *limit);
  pthread_mutex_init(&limit->lock, NULL);
  limit->per_second = per_minute / 60.0;
  limit->burst = per_minute;
  limit->mask = size - 1;
  limit->key = hash_hmac_key_new(key, sizeof key);
  explicit_bzero(key, sizeof key);
  limit->buckets = xcalloc(size, sizeof *limit->buckets);
  return limit;
}

void rate_limit_free(struct rate_limit *limit)
{
  if (!limit)
    return;
  hash_hmac_key_free(limit->key);
  free(limit->buckets);
  pthread_mutex_destroy(&limit->lock);
  free(limit);
}

static void refill(const struct rate_limit *limit, struct bucket *bucket, double now)
{
  if (now > bucket->updated)
    bucket->tokens =
      fmin(limit->burst, bucket->tokens + (now - bucket->updated) * limit->per_second);
  bucket->updated = now;
}

/* key's bucket, or the slot it takes (then emptied), within its window. */
static struct bucket *find(struct rate_limit *limit, uint64_t tag, size_t start, double now)
{
  struct bucket *victim = NULL;

  for (size_t i = 0; i < PROBES; i++) {
    struct bucket *bucket = &limit->buckets[(start + i) & limit->mask];
    if (bucket->tag == tag)
      return bucket;
    if (bucket->tag == 0) {
      if (!victim || victim->tag != 0)
        victim = bucket;
      continue;
    }
    refill(limit, bucket, now);
    if (!victim || (victim->tag != 0 && bucket->tokens > victim->tokens))
      victim = bucket;
  }
  *victim = (struct bucket){.tag = tag, .tokens = limit->burst, .updated = now};
  return victim;
}

unsigned rate_limit_take(struct rate_limit *limit, const void *key, size_t key_len, double now)
{
  uint8_t mac[HASH_SHA256_LEN];
  uint64_t tag, index;
  struct bucket *bucket;
  unsigned wait = 0;

  if (!limit)
    return 0;
  hash_hmac_sha256_with(limit->key, key, key_len, mac);
  memcpy(&tag, mac, sizeof tag);
  memcpy(&index, mac + sizeof tag, sizeof index);
  tag |= 1; /* never the empty tag */
  pthread_mutex_lock(&limit->lock);
  bucket = find(limit, tag, (size_t)index, now);
  refill(limit, bucket, now);
  if (bucket->tokens >= 1.0)
    bucket->tokens -= 1.0;
  else
    wait = (unsigned)ceil((1.0 - bucket->tokens) / limit->per_second);
  pthread_mutex_unlock(&limit->lock);
  return wait; /* 1 at least when denied: 1 - tokens > 0 */
}
