/* One attached phone: what is known of it, where its checks stand, and
 * the I/O that carries out the decision machine's actions (store,
 * registry, retry timer, identity helper, release). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backoff.h"
#include "decide.h"
#include "identify.h"

struct daemon;
struct identity_query;
struct registry_call;

#define TERMINAL_HANDLE_LEN 16

struct terminal {
  struct daemon *daemon;
  char *syspath;
  struct phone_info info;
  char handle[TERMINAL_HANDLE_LEN + 1]; /* "" until identified */
  char *object_path;                    /* NULL until identified */
  char id[TERMINAL_ID_BUF];             /* the terminal identifier; "" when none */
  enum terminal_id_kind kind;
  uint64_t first_seen, last_seen;
  uint64_t generation; /* the enumeration that last saw it */
  struct decide_state state;
  struct backoff backoff;
  struct event *retry_timer;
  struct registry_call *call; /* lookup or claim in flight */
  struct identity_query *query;
  void (*forget_done)(int error, void *userdata);
  void *forget_userdata;
};

/* From the udev watch. Attach is idempotent for the same device; another
 * device at a known syspath (events were lost) detaches the old one. */
void terminal_attach(struct daemon *daemon, struct udev_device *device);
void terminal_detach(struct daemon *daemon, const char *syspath);
/* After an enumeration: terminals it did not see again are gone. */
void terminal_detach_older(struct daemon *daemon, uint64_t generation);
/* Detaches every terminal (shutdown) without announcing anything. */
void terminal_free_all(struct daemon *daemon);

/* Runs the checks again from the start (D-Bus Retry). 0, or -EBUSY while
 * a release is unconfirmed. */
int terminal_retry(struct terminal *terminal);
/* Releases the binding on the registry, once any call in flight for the
 * phone is answered; replies through done, then announces the outcome.
 * done gets 0 (released), -EHOSTUNREACH (certainly not done: nothing
 * changed), -EACCES (the token was refused: nothing changed), -ETIMEDOUT
 * (the answer was lost: pending/releasing until the registry answers),
 * -EPERM (another client holds it), -ENODEV (the phone went away first),
 * -EBUSY (a Forget is already running or unconfirmed), -ENOKEY
 * (unidentified). */
void terminal_forget(struct terminal *terminal, void (*done)(int error, void *userdata),
                     void *userdata);

/* The account changed (ready, failed, reset): phones waiting on it or on
 * the registry try now. */
void terminal_kick_waiting(struct daemon *daemon);

/* The short log name of a phone from its identifier (its handle). */
void terminal_handle_of(const struct daemon *daemon, const char *terminal_id, char *out,
                        size_t out_size);

const char *terminal_decision(const struct terminal *terminal);
const char *terminal_reason(const struct terminal *terminal);
