/* One attached phone: what is known of it, where its checks stand, and
 * the I/O that carries out the decision machine's actions (store,
 * registry, retry timer, identity helper). */
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
  struct decide_state state;
  struct backoff backoff;
  struct event *retry_timer;
  struct registry_call *call;       /* lookup or claim in flight */
  struct registry_call *forget_call;
  struct identity_query *query;
  bool awaiting_account; /* a registry call waits for the first account */
  void (*forget_done)(int error, void *userdata);
  void *forget_userdata;
};

/* From the udev watch. Attach is idempotent. */
void terminal_attach(struct daemon *daemon, struct udev_device *device);
void terminal_detach(struct daemon *daemon, const char *syspath);
/* Detaches every terminal (shutdown) without announcing anything. */
void terminal_free_all(struct daemon *daemon);

/* Runs the checks again from the start (D-Bus Retry). */
void terminal_retry(struct terminal *terminal);
/* Releases the binding on the registry, then drops the local record and
 * announces released/forgotten. done gets 0, -EHOSTUNREACH when the
 * registry cannot confirm (nothing changed), -EPERM when another client
 * holds the binding, -ENODEV when the phone went away, -EBUSY when a
 * Forget is already running, -ENOKEY for an unidentified phone. */
void terminal_forget(struct terminal *terminal, void (*done)(int error, void *userdata),
                     void *userdata);

/* An account became available, or obtaining one failed: phones waiting on
 * the registry (or on the account) try now. */
void terminal_kick_waiting(struct daemon *daemon);

const char *terminal_decision(const struct terminal *terminal);
const char *terminal_reason(const struct terminal *terminal);
