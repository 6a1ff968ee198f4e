/* One attached phone: what is known of it, where its checks stand, and
 * the I/O that carries out the decision machine's actions (store,
 * registry, retry timer, identity helper, release). Part of the hub:
 * only terminals.c and terminal.c know struct terminal. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backoff.h"
#include "bus.h"
#include "decide.h"
#include "handle.h"
#include "identify.h"

struct hub;
struct identity_query;
struct registry_call;

struct terminal {
  struct hub *hub;
  char *syspath;
  struct phone_info info;
  char handle[HANDLE_LEN + 1]; /* "" until identified */
  char id[TERMINAL_ID_BUF];    /* the terminal identifier; "" when none */
  enum terminal_id_kind kind;
  bool published; /* on the bus (TerminalAttached said) */
  uint64_t first_seen, last_seen;
  uint64_t generation; /* the enumeration that last saw it */
  struct decide_state state;
  struct backoff backoff;
  struct event *retry_timer;
  struct event *confirm_timer; /* a known phone's confirming claim, just after its Decision */
  unsigned retry_after_s;      /* the registry's last Retry-After: the next retry waits that long */
  struct registry_call *call;  /* lookup or claim in flight */
  struct identity_query *query;
  bus_done_fn forget_done;
  void *forget_call;
};

/* A phone just attached. */
struct terminal *terminal_new(struct hub *hub, const char *syspath, const struct phone_info *info,
                              uint64_t generation);
/* Identification starts (maybe asynchronously); the terminal is then
 * published through hub->publish and checked. */
void terminal_start(struct terminal *terminal);
/* Drops it without a word on the bus: cancels its work, a Forget still
 * waiting is answered -ENODEV, a pending release goes on without it. */
void terminal_free(struct terminal *terminal);
/* A rescan or a duplicate event reported it again. */
void terminal_seen_again(struct terminal *terminal, uint64_t generation);

/* Runs the checks again (D-Bus Retry), once a claim in flight is
 * answered. 0, or -EBUSY while a release is unconfirmed. */
int terminal_retry(struct terminal *terminal);
/* Releases the binding on the registry, once any call in flight for the
 * phone is answered; replies through done, then announces the outcome.
 * done gets 0 (released), -EHOSTUNREACH (certainly not done: nothing
 * changed), -EACCES (the token was refused: nothing changed), -ETIMEDOUT
 * (the answer was lost: pending/releasing until the registry answers),
 * -EPERM (another client holds it), -ENODEV (the phone went away first),
 * -EBUSY (a Forget is already running or unconfirmed), -ENOKEY
 * (unidentified). */
void terminal_forget(struct terminal *terminal, bus_done_fn done, void *call);
/* Its binding is due for renewal: the confirming claim again, if it is
 * connected and nothing is in flight. */
void terminal_renew(struct terminal *terminal);
/* The account changed: a terminal waiting for it, or for a retry, goes now. */
void terminal_kick(struct terminal *terminal);

/* What the bus shows of it; strings borrowed from the terminal. */
void terminal_view(const struct terminal *terminal, struct bus_terminal_view *out_view);
