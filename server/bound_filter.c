/* A growing ("scalable") Bloom filter over keyed hashes; see
 * bound_filter.h. The terminal hashes are HMAC-SHA-256 outputs, uniformly
 * random already, so their 32-bit words serve as the probes as they are.
 * Layers are only ever appended, and published with one atomic count, so
 * readers need no lock and nothing is freed while they look. */
#include "bound_filter.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define PROBES 7 /* 10 bits per hash and 7 probes: ~1% false "maybe" */
#define BITS_PER_HASH 10
#define MIN_CAPACITY 4096
#define MAX_LAYERS 20 /* from 4096 hashes, doubling: past two billion */

struct layer {
  uint64_t *words;
  uint32_t mask;   /* bit count - 1; the count is a power of two */
  size_t capacity; /* hashes it takes before the next layer starts */
  size_t count;    /* hashes added; only the adding side reads it */
};

struct bound_filter {
  struct layer layers[MAX_LAYERS];
  unsigned published; /* layers[0 .. published) are ready to read */
};

static void layer_init(struct layer *layer, size_t capacity)
{
  uint64_t bits = 64;

  while (bits < (uint64_t)capacity * BITS_PER_HASH && bits < (1ull << 32))
    bits <<= 1;
  layer->words = xcalloc(bits / 64, sizeof *layer->words);
  layer->mask = (uint32_t)(bits - 1);
  layer->capacity = capacity;
}

struct bound_filter *bound_filter_new(size_t expected)
{
  struct bound_filter *filter = xcalloc(1, sizeof *filter);

  layer_init(&filter->layers[0], expected > MIN_CAPACITY ? expected : MIN_CAPACITY);
  filter->published = 1;
  return filter;
}

void bound_filter_free(struct bound_filter *filter)
{
  if (!filter)
    return;
  for (unsigned i = 0; i < filter->published; i++)
    free(filter->layers[i].words);
  free(filter);
}

static uint32_t probe(const uint8_t hash[HASH_SHA256_LEN], int i)
{
  uint32_t word;

  memcpy(&word, hash + 4 * i, sizeof word);
  return word;
}

/* The layer to add to: the newest, or a new one twice its size. */
static struct layer *layer_for_add(struct bound_filter *filter)
{
  struct layer *newest = &filter->layers[filter->published - 1];

  if (newest->count < newest->capacity || filter->published == MAX_LAYERS)
    return newest;
  layer_init(newest + 1, newest->capacity * 2);
  /* release: a reader that counts the layer sees it initialised */
  __atomic_store_n(&filter->published, filter->published + 1, __ATOMIC_RELEASE);
  return newest + 1;
}

void bound_filter_add(struct bound_filter *filter, const uint8_t hash[HASH_SHA256_LEN])
{
  struct layer *layer = layer_for_add(filter);

  for (int i = 0; i < PROBES; i++) {
    uint32_t bit = probe(hash, i) & layer->mask;
    /* release: a reader that sees the bits also sees the committed row */
    __atomic_fetch_or(&layer->words[bit / 64], 1ull << (bit % 64), __ATOMIC_RELEASE);
  }
  layer->count++;
}

static bool layer_may_contain(const struct layer *layer, const uint8_t hash[HASH_SHA256_LEN])
{
  for (int i = 0; i < PROBES; i++) {
    uint32_t bit = probe(hash, i) & layer->mask;
    uint64_t word = __atomic_load_n(&layer->words[bit / 64], __ATOMIC_ACQUIRE);
    if (!(word & (1ull << (bit % 64))))
      return false;
  }
  return true;
}

bool bound_filter_may_contain(const struct bound_filter *filter,
                              const uint8_t hash[HASH_SHA256_LEN])
{
  unsigned published = __atomic_load_n(&filter->published, __ATOMIC_ACQUIRE);

  for (unsigned i = 0; i < published; i++)
    if (layer_may_contain(&filter->layers[i], hash))
      return true;
  return false;
}
