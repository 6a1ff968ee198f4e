/* Chained hash map with FNV-1a, doubling when full; see strmap.h. */
#include "strmap.h"

#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
  char *key;
  void *value;
  struct entry *next;
};

struct strmap {
  struct entry **buckets;
  size_t bucket_count, size;
};

static uint64_t fnv1a(const char *s)
{
  uint64_t h = 1469598103934665603ULL;

  while (*s) {
    h ^= (unsigned char)*s++;
    h *= 1099511628211ULL;
  }
  return h;
}

struct strmap *strmap_new(void)
{
  struct strmap *map = xcalloc(1, sizeof *map);

  map->bucket_count = 16;
  map->buckets = xcalloc(map->bucket_count, sizeof *map->buckets);
  return map;
}

void strmap_free(struct strmap *map)
{
  if (!map)
    return;
  for (size_t i = 0; i < map->bucket_count; i++)
    for (struct entry *e = map->buckets[i], *next; e; e = next) {
      next = e->next;
      free(e->key);
      free(e);
    }
  free(map->buckets);
  free(map);
}

static void grow(struct strmap *map)
{
  size_t count = map->bucket_count * 2;
  struct entry **buckets = xcalloc(count, sizeof *buckets);

  for (size_t i = 0; i < map->bucket_count; i++)
    for (struct entry *e = map->buckets[i], *next; e; e = next) {
      size_t b = fnv1a(e->key) & (count - 1);
      next = e->next;
      e->next = buckets[b];
      buckets[b] = e;
    }
  free(map->buckets);
  map->buckets = buckets;
  map->bucket_count = count;
}

static struct entry **find(const struct strmap *map, const char *key)
{
  struct entry **slot = &map->buckets[fnv1a(key) & (map->bucket_count - 1)];

  while (*slot && strcmp((*slot)->key, key) != 0)
    slot = &(*slot)->next;
  return slot;
}

void strmap_put(struct strmap *map, const char *key, void *value)
{
  struct entry **slot = find(map, key), *e;

  if (*slot) {
    (*slot)->value = value;
    return;
  }
  e = xmalloc(sizeof *e);
  *e = (struct entry){.key = xstrdup(key), .value = value};
  *slot = e;
  if (++map->size > map->bucket_count)
    grow(map);
}

void *strmap_get(const struct strmap *map, const char *key)
{
  struct entry *e = *find(map, key);

  return e ? e->value : NULL;
}

void *strmap_remove(struct strmap *map, const char *key)
{
  struct entry **slot = find(map, key), *e = *slot;
  void *value;

  if (!e)
    return NULL;
  *slot = e->next;
  value = e->value;
  free(e->key);
  free(e);
  map->size--;
  return value;
}

size_t strmap_size(const struct strmap *map)
{
  return map->size;
}

void strmap_foreach(const struct strmap *map, void (*fn)(const char *key, void *value, void *ud),
                    void *ud)
{
  for (size_t i = 0; i < map->bucket_count; i++)
    for (struct entry *e = map->buckets[i]; e; e = e->next)
      fn(e->key, e->value, ud);
}

void **strmap_values(const struct strmap *map, size_t *out_count)
{
  void **values = xcalloc(map->size + 1, sizeof *values);
  size_t n = 0;

  for (size_t i = 0; i < map->bucket_count; i++)
    for (struct entry *e = map->buckets[i]; e; e = e->next)
      values[n++] = e->value;
  *out_count = n;
  return values;
}
