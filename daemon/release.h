/* Releases of bindings (Forget), kept until the registry has settled
 * them. A release is written to the store before its DELETE is sent, and
 * a DELETE whose answer was lost is sent again with backoff until the
 * registry answers: after a restart of the daemon too, and after the
 * phone was unplugged. Each DELETE carries a fresh Phonebind-Seq, so a
 * claim of this PC still on the wire cannot bind the phone afterwards.
 * A settled release drops the phone's local record. */
#pragma once

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

struct clock;
struct registry_client;
struct releaser;
struct seq_counter;
struct store;

enum release_outcome {
  RELEASE_FREED,       /* 204 or 404: the registry holds no binding of ours */
  RELEASE_TAKEN,       /* 403: another client holds the phone */
  RELEASE_NOT_DONE,    /* the first DELETE certainly did nothing; the release is dropped */
  RELEASE_UNCONFIRMED, /* the first DELETE's answer was lost; it goes on */
  RELEASE_DROPPED,     /* made under an account that is not this PC's any more */
};

/* error: RELEASE_NOT_DONE's cause: -EHOSTUNREACH (not sent, or 503), or
 * -EACCES (the token was refused). */
typedef void (*release_fn)(enum release_outcome outcome, int error, void *userdata);

struct releaser_options {
  struct event_base *base;
  struct registry_client *registry;
  struct store *store; /* NULL: releases do not survive a restart */
  struct seq_counter *seq;
  double retry_initial_s, retry_max_s;
  const struct clock *clock; /* the wall clock for the sequence, jitter */
  /* the short name of a phone in the log, from its identifier */
  void (*name_of)(const char *terminal_id, char *out, size_t out_size, void *userdata);
  void *userdata;
};

/* Loads the pending releases from the store; they wait for the account. */
struct releaser *releaser_new(const struct releaser_options *options);
void releaser_free(struct releaser *releaser);

/* The account whose releases may go now (NULL: none yet). Releases of
 * another account are dropped: their token is not this PC's any more. */
void releaser_set_account(struct releaser *releaser, const char *account);

/* Starts releasing; fn gets the first outcome and, after UNCONFIRMED, the
 * final one (FREED or TAKEN), always from the loop. 0, -EBUSY when one is
 * already pending, -ENOKEY without an account. */
int releaser_start(struct releaser *releaser, const char *terminal_id, release_fn fn,
                   void *userdata);
bool releaser_is_pending(const struct releaser *releaser, const char *terminal_id);
/* Who hears how a pending release ends (an attached phone); NULL fn: nobody. */
void releaser_watch(struct releaser *releaser, const char *terminal_id, release_fn fn,
                    void *userdata);
