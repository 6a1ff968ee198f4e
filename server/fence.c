/* The fencing rules; see fence.h and DESIGN.md ("Forget"). */
#include "fence.h"

#include <errno.h>
#include <string.h>

static void set_write(struct fence_write *out_write, enum fence_op op, uint64_t seq)
{
  out_write->op = op;
  out_write->seq = seq;
}

/* Without a header a claim is what it always was; a new binding takes
 * our tombstone's seq, so the stored sequence never goes down. */
static enum claim_result claim_unfenced(enum fence_owner owner, uint64_t stored,
                                        struct fence_write *out_write)
{
  if (owner == FENCE_OTHERS)
    return CLAIM_CONFLICT;
  if (owner == FENCE_OURS) {
    set_write(out_write, FENCE_WRITE_RENEW, stored);
    return CLAIM_RENEWED;
  }
  set_write(out_write, FENCE_WRITE_BIND, stored);
  return CLAIM_BOUND_NOW;
}

enum claim_result fence_claim(enum fence_owner owner, uint64_t stored, uint64_t sent,
                              struct fence_write *out_write)
{
  set_write(out_write, FENCE_WRITE_NOTHING, 0);
  if (sent == 0)
    return claim_unfenced(owner, stored, out_write);
  if (sent < stored)
    return CLAIM_STALE;
  if (sent == stored) /* sent again: the answer it would get now */
    return owner == FENCE_OURS     ? CLAIM_RENEWED
           : owner == FENCE_OTHERS ? CLAIM_CONFLICT
                                   : CLAIM_STALE;
  if (owner == FENCE_OTHERS)
    return CLAIM_CONFLICT;
  set_write(out_write, owner == FENCE_OURS ? FENCE_WRITE_RENEW : FENCE_WRITE_BIND, sent);
  return owner == FENCE_OURS ? CLAIM_RENEWED : CLAIM_BOUND_NOW;
}

enum release_result fence_release(enum fence_owner owner, uint64_t stored, uint64_t sent,
                                  struct fence_write *out_write)
{
  enum release_result answer = owner == FENCE_OURS     ? RELEASE_DONE
                               : owner == FENCE_OTHERS ? RELEASE_NOT_OWNER
                                                       : RELEASE_NOT_BOUND;

  set_write(out_write, FENCE_WRITE_NOTHING, 0);
  if (sent == 0) {
    if (owner == FENCE_OURS) /* the binding's seq lives on in the tombstone */
      set_write(out_write, FENCE_WRITE_UNBIND, stored);
    return answer;
  }
  if (sent < stored)
    return RELEASE_STALE;
  if (sent == stored) /* on our binding an equal seq was a PUT's, not ours */
    return owner == FENCE_OURS ? RELEASE_STALE : answer;
  set_write(out_write, owner == FENCE_OURS ? FENCE_WRITE_UNBIND : FENCE_WRITE_TOMBSTONE, sent);
  return answer;
}

int fence_parse_seq(const char *text, uint64_t *out_seq)
{
  size_t len = strlen(text);
  uint64_t seq = 0;

  if (len == 0 || len > 20)
    return -EINVAL;
  for (size_t i = 0; i < len; i++) {
    unsigned digit = (unsigned)(text[i] - '0');
    if (digit > 9 || seq > (UINT64_MAX - digit) / 10)
      return -EINVAL;
    seq = seq * 10 + digit;
  }
  if (seq == 0)
    return -EINVAL;
  *out_seq = seq;
  return 0;
}
