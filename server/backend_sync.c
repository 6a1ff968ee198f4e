/* Synchronous requests over the completion-based backend; see backend_sync.h. */
#include "backend_sync.h"

#include "log.h"

#include <event2/event.h>
#include <stdio.h>

struct waiter {
  bool done;
  struct backend_result result;
};

static void on_done(const struct backend_result *result, void *userdata)
{
  struct waiter *waiter = userdata;

  waiter->result = *result;
  waiter->done = true;
}

/* Runs the loop until the answer is in; a backend that left a request
 * unanswered without a loop to answer it from is a bug. */
static int wait_for(struct waiter *waiter, struct event_base *base)
{
  while (!waiter->done) {
    if (!base)
      log_fatal("backend request left unanswered without an event loop");
    if (event_base_loop(base, EVLOOP_ONCE) < 0)
      return -EIO;
  }
  return waiter->result.error;
}

#define CALL(base, waiter) (&(struct backend_call){(base), on_done, (waiter)})

int backend_sync_lookup(struct backend *be, struct event_base *base,
                        const uint8_t terminal_hash[HASH_SHA256_LEN], const char *account,
                        enum binding_status *out_status)
{
  struct waiter waiter = {0};
  int r;

  be->ops->lookup(be, CALL(base, &waiter), terminal_hash, account);
  r = wait_for(&waiter, base);
  if (r == 0)
    *out_status = waiter.result.status;
  return r;
}

int backend_sync_claim(struct backend *be, struct event_base *base,
                       const uint8_t terminal_hash[HASH_SHA256_LEN], const char *account,
                       uint64_t seq, uint64_t now, enum claim_result *out_result, uint64_t *out_seq)
{
  struct waiter waiter = {0};
  int r;

  be->ops->claim(be, CALL(base, &waiter), terminal_hash, account, seq, now);
  r = wait_for(&waiter, base);
  if (r == 0)
    *out_result = waiter.result.claim;
  if (r == 0 && out_seq)
    *out_seq = waiter.result.seq;
  return r;
}

int backend_sync_release(struct backend *be, struct event_base *base,
                         const uint8_t terminal_hash[HASH_SHA256_LEN], const char *account,
                         uint64_t seq, uint64_t now, enum release_result *out_result,
                         uint64_t *out_seq)
{
  struct waiter waiter = {0};
  int r;

  be->ops->release(be, CALL(base, &waiter), terminal_hash, account, seq, now);
  r = wait_for(&waiter, base);
  if (r == 0)
    *out_result = waiter.result.release;
  if (r == 0 && out_seq)
    *out_seq = waiter.result.seq;
  return r;
}

int backend_sync_create_account(struct backend *be, struct event_base *base,
                                const uint8_t token_hash[HASH_SHA256_LEN], uint64_t now,
                                char out_account[ACCOUNT_ID_MAX])
{
  struct waiter waiter = {0};
  int r;

  be->ops->create_account(be, CALL(base, &waiter), token_hash, now);
  r = wait_for(&waiter, base);
  if (r == 0)
    snprintf(out_account, ACCOUNT_ID_MAX, "%s", waiter.result.account);
  return r;
}

int backend_sync_find_account(struct backend *be, struct event_base *base,
                              const uint8_t token_hash[HASH_SHA256_LEN],
                              char out_account[ACCOUNT_ID_MAX])
{
  struct waiter waiter = {0};
  int r;

  be->ops->find_account(be, CALL(base, &waiter), token_hash);
  r = wait_for(&waiter, base);
  if (r < 0 || !waiter.result.found)
    return r;
  snprintf(out_account, ACCOUNT_ID_MAX, "%s", waiter.result.account);
  return 1;
}

int backend_sync_health(struct backend *be, struct event_base *base)
{
  struct waiter waiter = {0};

  be->ops->health(be, CALL(base, &waiter));
  return wait_for(&waiter, base);
}
