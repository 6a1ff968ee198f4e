/* A string-keyed hash map of borrowed values: terminals by syspath and by
 * handle. Keys are copied; values are the caller's. */
#pragma once

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
void strmap_free(struct strmap *map);
/* Sets key to value, replacing what was there. */
void strmap_put(struct strmap *map, const char *key, void *value);
void *strmap_get(const struct strmap *map, const char *key);
/* Removes key; returns its value or NULL. */
void *strmap_remove(struct strmap *map, const char *key);
size_t strmap_size(const struct strmap *map);

/* The values as they are now, in no order: an array of *out_count
 * pointers (malloc'd, the caller frees it), for walks that change the map. */
void **strmap_values(const struct strmap *map, size_t *out_count);
/* Calls fn for every entry; fn must not change the map. */
void strmap_foreach(const struct strmap *map, void (*fn)(const char *key, void *value, void *ud),
                    void *ud);
