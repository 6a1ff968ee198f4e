/* Token hash → account, in memory. Accounts never change once made, so
 * a token that authenticated once needs no database read again. Only
 * tokens the backend confirmed are cached: garbage tokens cost no memory.
 * Safe from every HTTP thread. */
#pragma once

#include "backend.h"

struct account_cache;

struct account_cache *account_cache_new(void);
void account_cache_free(struct account_cache *cache);
/* 1 and out_account filled when cached, else 0. */
int account_cache_get(struct account_cache *cache, const uint8_t token_hash[HASH_SHA256_LEN],
                      char out_account[ACCOUNT_ID_MAX]);
void account_cache_put(struct account_cache *cache, const uint8_t token_hash[HASH_SHA256_LEN],
                       const char *account);
