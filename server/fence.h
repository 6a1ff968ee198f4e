/* Fencing of claims and releases by Phonebind-Seq (DESIGN.md, "Forget"):
 * a PUT or DELETE that a newer request of the same account overtook
 * changes nothing. Pure: the stored state and the request in, the answer
 * and what to write out; the backend reads and writes under one lock. */
#pragma once

#include <stdint.h>

#include "backend.h"

/* Whose binding the terminal has, seen from the requesting account. */
enum fence_owner {
  FENCE_UNBOUND,
  FENCE_OURS,
  FENCE_OTHERS,
};

enum fence_op {
  FENCE_WRITE_NOTHING,
  FENCE_WRITE_BIND,      /* insert our binding with seq; drop our tombstone */
  FENCE_WRITE_RENEW,     /* renew our binding; its seq := seq */
  FENCE_WRITE_UNBIND,    /* delete our binding; our tombstone := seq */
  FENCE_WRITE_TOMBSTONE, /* our tombstone := seq (no binding of ours) */
};

struct fence_write {
  enum fence_op op;
  uint64_t seq;
};

/* stored: our binding's seq when owner is FENCE_OURS, else our tombstone's
 * for the terminal, else 0. sent: the request's Phonebind-Seq, 0 when it
 * had none. A stale answer reports `stored`. */
enum claim_result fence_claim(enum fence_owner owner, uint64_t stored, uint64_t sent,
                              struct fence_write *out_write);
enum release_result fence_release(enum fence_owner owner, uint64_t stored, uint64_t sent,
                                  struct fence_write *out_write);

/* A Phonebind-Seq value: 1 to 20 decimal digits, 1 ≤ N ≤ 2^64 − 1, nothing
 * else (no sign, no space, no exponent). 0 or -EINVAL. */
int fence_parse_seq(const char *text, uint64_t *out_seq);
