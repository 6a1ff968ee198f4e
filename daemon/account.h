/* The identity of this PC's client on the registry (seed [0043]-[0044]):
 * a configured account with its token in a file of its own (or a systemd
 * credential named "token"), else a shadow account the registry hands out
 * on first start, kept in the state directory (0600). */
#pragma once

struct daemon;

/* Loads the account, or starts obtaining a shadow account (retried with
 * backoff while the registry is away). 0, or -errno for a configured
 * token that cannot be read: a start-up error for a person to fix. */
int account_start(struct daemon *daemon);
void account_stop(struct daemon *daemon);
