/* The backend's requests as plain calls that return their answer: for the
 * unit tests and for one-shot tools. base is the caller's loop (attached
 * to the backend) and may be NULL for a backend that answers at once; the
 * loop is run until the answer is in. Return values are those the
 * requests had before they were completion-based: 0 or -errno, and
 * find_account's 1 when found. */
#pragma once

#include "backend.h"

int backend_sync_lookup(struct backend *be, struct event_base *base,
                        const uint8_t terminal_hash[HASH_SHA256_LEN], const char *account,
                        enum binding_status *out_status);
int backend_sync_claim(struct backend *be, struct event_base *base,
                       const uint8_t terminal_hash[HASH_SHA256_LEN], const char *account,
                       uint64_t seq, uint64_t now, enum claim_result *out_result,
                       uint64_t *out_seq);
int backend_sync_release(struct backend *be, struct event_base *base,
                         const uint8_t terminal_hash[HASH_SHA256_LEN], const char *account,
                         uint64_t seq, uint64_t now, enum release_result *out_result,
                         uint64_t *out_seq);
int backend_sync_create_account(struct backend *be, struct event_base *base,
                                const uint8_t token_hash[HASH_SHA256_LEN], uint64_t now,
                                char out_account[ACCOUNT_ID_MAX]);
int backend_sync_find_account(struct backend *be, struct event_base *base,
                              const uint8_t token_hash[HASH_SHA256_LEN],
                              char out_account[ACCOUNT_ID_MAX]);
int backend_sync_health(struct backend *be, struct event_base *base);
