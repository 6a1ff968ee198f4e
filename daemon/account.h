/* The identity of this PC's client on the registry (seed [0043]-[0044]):
 * a configured account with its token in a file of its own (or a systemd
 * credential named "token"), else a shadow account the registry hands out
 * on first start, kept in the state directory (0600).
 *
 * The daemon never makes a new identity on its own: that would orphan
 * its bindings or undo a revocation. A refused token (401) makes the
 * account "refused" until an administrator acts: ResetAccount() for a
 * shadow account, a new token file (and SIGHUP) for a configured one.
 * An edge of its own: it knows the registry client, not the daemon. */
#pragma once

#include <event2/event.h>
#include <stdbool.h>

struct account;
struct clock;
struct registry_answer;
struct registry_client;

enum account_state {
  ACCOUNT_READY,       /* a token the registry takes (or has not refused yet) */
  ACCOUNT_REQUESTING,  /* a shadow account is on its way */
  ACCOUNT_REFUSED,     /* the registry answered 401 */
  ACCOUNT_UNREACHABLE, /* the registry could not be reached at the last attempt */
};

struct account_options {
  struct event_base *base;
  struct registry_client *registry; /* its token is set from here */
  const char *state_dir;            /* where a shadow account is kept */
  const char *token_file;           /* a configured account's token; NULL: see above */
  const char *name;                 /* the configured account's name; NULL: "configured" */
  const char *registry_url;         /* for the log */
  double retry_initial_s, retry_max_s;
  const struct clock *clock;
};

struct account_handlers {
  /* The id or the state changed; once per change. */
  void (*changed)(void *userdata);
  void *userdata;
};

/* Copies the options; nothing happens before account_start. */
struct account *account_new(const struct account_options *options);
/* Loads the account, or starts obtaining a shadow account (retried with
 * backoff while the registry is away); handlers hear of every change from
 * now on. 0, or -errno for a configured token that cannot be read: a
 * start-up error for a person to fix. */
int account_start(struct account *account, const struct account_handlers *handlers);
void account_free(struct account *account);

/* NULL until an account is known. */
const char *account_id(const struct account *account);
enum account_state account_state(const struct account *account);
bool account_is_shadow(const struct account *account);

/* Every registry answer passes here (the client's observer; userdata is
 * the account): the state follows what the registry says, logged once
 * per change. */
void account_observe(const struct registry_answer *answer, void *account);

/* ResetAccount(): moves a refused shadow account aside and requests a new
 * one. 0, -EOPNOTSUPP for a configured account, -EALREADY when the
 * account is not refused. The local records made under the old one are
 * the caller's to drop. */
int account_reset(struct account *account);
/* SIGHUP: a configured account's token file is read again. */
void account_reload(struct account *account);

const char *account_state_name(enum account_state state);
