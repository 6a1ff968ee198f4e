/* Token hash → account, in memory. An account's token never changes, so
 * a token that authenticated once needs no database read again, until
 * the account is revoked (account_cache_forget_account). Only tokens the
 * backend confirmed are cached: garbage tokens cost no memory. Safe from
 * every HTTP thread. */
#pragma once

#include "backend.h"

struct account_cache;

struct account_cache *account_cache_new(void);
void account_cache_free(struct account_cache *cache);
/* 1 and out_account filled when cached, else 0. */
int account_cache_get(struct account_cache *cache, const uint8_t token_hash[HASH_SHA256_LEN],
                      char out_account[ACCOUNT_ID_MAX]);
/* The cache's generation, taken before asking the backend; a put with a
 * generation that a forget has moved since is dropped (the answer may
 * predate the revocation). */
uint64_t account_cache_generation(struct account_cache *cache);
void account_cache_put(struct account_cache *cache, const uint8_t token_hash[HASH_SHA256_LEN],
                       const char *account, uint64_t generation);
/* Drops every token of account (revoked); NULL drops every token (the
 * news of revocations may have been lost). */
void account_cache_forget_account(struct account_cache *cache, const char *account);
