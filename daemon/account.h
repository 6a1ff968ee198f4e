/* The identity of this PC's client on the registry (seed [0043]-[0044]):
 * a configured account with its token in a file of its own (or a systemd
 * credential named "token"), else a shadow account the registry hands out
 * on first start, kept in the state directory (0600).
 *
 * The daemon never makes a new identity on its own: that would orphan
 * its bindings or undo a revocation. A refused token (401) makes the
 * account "refused" until an administrator acts: ResetAccount() for a
 * shadow account, a new token file (and SIGHUP) for a configured one. */
#pragma once

#include <stdbool.h>

struct daemon;
struct registry_answer;

enum account_state {
  ACCOUNT_READY,       /* a token the registry takes (or has not refused yet) */
  ACCOUNT_REQUESTING,  /* a shadow account is on its way */
  ACCOUNT_REFUSED,     /* the registry answered 401 */
  ACCOUNT_UNREACHABLE, /* the registry could not be reached at the last attempt */
};

/* Loads the account, or starts obtaining a shadow account (retried with
 * backoff while the registry is away). 0, or -errno for a configured
 * token that cannot be read: a start-up error for a person to fix. */
int account_start(struct daemon *daemon);
void account_stop(struct daemon *daemon);

/* Every registry answer passes here (the client's observer): the
 * account's state follows what the registry says, logged once per change. */
void account_observe(const struct registry_answer *answer, void *userdata);

/* ResetAccount(): drops a refused shadow account and its local records,
 * and requests a new one. 0, -EOPNOTSUPP for a configured account,
 * -EALREADY when the account is not refused. */
int account_reset(struct daemon *daemon);
/* SIGHUP: a configured account's token file is read again. */
void account_reload(struct daemon *daemon);

const char *account_state_name(enum account_state state);
