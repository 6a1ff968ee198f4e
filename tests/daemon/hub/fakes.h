/* Fakes of the hub's edges for tests/daemon/test_hub.c: the store, the
 * registry client, the bus, the identity helper and the account, linked
 * in place of the real ones. Each records what the hub asked of it; the
 * test answers registry calls itself, one by one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "account.h"
#include "registry_client.h"

enum fake_call_kind { FAKE_LOOKUP, FAKE_CLAIM, FAKE_RELEASE };

struct fake_call {
  enum fake_call_kind kind;
  char id[128];
  uint64_t seq;
  registry_done_fn done;
  void *userdata;
  bool open; /* neither answered nor cancelled */
};

#define FAKE_MAX_CALLS 64
#define FAKE_MAX_EVENTS 64

extern struct fake_call fake_calls[FAKE_MAX_CALLS];
extern size_t fake_call_count;
/* What the bus was told, one line each: "attached H", "decision H connect
 * new-binding", "detached H", "last-seen H", "account". */
extern char fake_events[FAKE_MAX_EVENTS][128];
extern size_t fake_event_count;

/* The account's id (NULL: none yet) and state. */
extern const char *fake_account;
extern enum account_state fake_account_state;

void fakes_reset(void);
/* The call's answer, as the registry client would give it. */
void fake_answer(size_t index, long http_status, enum registry_status status);
void fake_answer_failure(size_t index, bool not_done);
/* The open calls, in order, as "lookup ID", "claim ID", "release ID". */
size_t fake_open_calls(char out[][160], size_t max);

/* The store: a binding recorded for an identifier, or not. */
void fake_store_put(const char *terminal_id);
bool fake_store_has(const char *terminal_id);
