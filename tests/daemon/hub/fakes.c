/* Fakes of the hub's edges; see fakes.h. */
#include "fakes.h"

#include "bus.h"
#include "identity_helper.h"
#include "store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_call fake_calls[FAKE_MAX_CALLS];
size_t fake_call_count;
char fake_events[FAKE_MAX_EVENTS][128];
size_t fake_event_count;
const char *fake_account;
enum account_state fake_account_state;

#define FAKE_STORE_MAX 32
static char stored[FAKE_STORE_MAX][128];
static size_t stored_count;
static uint64_t counter;

struct registry_call {
  size_t index;
};
static struct registry_call handles[FAKE_MAX_CALLS];

void fakes_reset(void)
{
  fake_call_count = fake_event_count = stored_count = 0;
  counter = 0;
  fake_account = "sa-test";
  fake_account_state = ACCOUNT_READY;
}

static void event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void event(const char *fmt, ...)
{
  va_list ap;

  if (fake_event_count == FAKE_MAX_EVENTS)
    return;
  va_start(ap, fmt);
  vsnprintf(fake_events[fake_event_count++], sizeof *fake_events, fmt, ap);
  va_end(ap);
}

/* the bus */
void bus_emit_attached(struct bus *bus, const char *handle)
{
  (void)bus;
  event("attached %s", handle);
}

void bus_emit_detached(struct bus *bus, const char *handle)
{
  (void)bus;
  event("detached %s", handle);
}

void bus_emit_decision(struct bus *bus, const char *handle, const char *decision,
                       const char *reason)
{
  (void)bus;
  event("decision %s %s %s", handle, decision, reason);
}

void bus_emit_last_seen(struct bus *bus, const char *handle)
{
  (void)bus;
  event("last-seen %s", handle);
}

void bus_emit_account_changed(struct bus *bus)
{
  (void)bus;
  event("account");
}

/* the registry client */
static int record(enum fake_call_kind kind, const char *id, uint64_t seq, registry_done_fn done,
                  void *userdata, struct registry_call **out_call)
{
  size_t i = fake_call_count++;

  fake_calls[i] =
    (struct fake_call){.kind = kind, .seq = seq, .done = done, .userdata = userdata, .open = true};
  snprintf(fake_calls[i].id, sizeof fake_calls[i].id, "%s", id);
  handles[i].index = i;
  if (out_call)
    *out_call = &handles[i];
  return 0;
}

int registry_client_lookup(struct registry_client *client, const char *terminal_id,
                           registry_done_fn done, void *userdata, struct registry_call **out_call)
{
  (void)client;
  return record(FAKE_LOOKUP, terminal_id, 0, done, userdata, out_call);
}

int registry_client_claim(struct registry_client *client, const char *terminal_id, uint64_t seq,
                          registry_done_fn done, void *userdata, struct registry_call **out_call)
{
  (void)client;
  return record(FAKE_CLAIM, terminal_id, seq, done, userdata, out_call);
}

int registry_client_release(struct registry_client *client, const char *terminal_id, uint64_t seq,
                            registry_done_fn done, void *userdata, struct registry_call **out_call)
{
  (void)client;
  return record(FAKE_RELEASE, terminal_id, seq, done, userdata, out_call);
}

/* the renewer of the hub's tests has no registry: never called */
int registry_client_info(struct registry_client *client, registry_done_fn done, void *userdata,
                         struct registry_call **out_call)
{
  (void)client, (void)done, (void)userdata, (void)out_call;
  return -ENOTSUP;
}

void registry_call_cancel(struct registry_call *call)
{
  if (call)
    fake_calls[call->index].open = false;
}

static void deliver(size_t index, const struct registry_answer *answer)
{
  struct fake_call *call = &fake_calls[index];

  if (!call->open)
    return;
  call->open = false;
  call->done(answer, call->userdata);
}

void fake_answer(size_t index, long http_status, enum registry_status status)
{
  const struct registry_answer answer = {
    .outcome = REGISTRY_ANSWERED, .http_status = http_status, .status = status, .error = "ok"};
  deliver(index, &answer);
}

void fake_answer_failure(size_t index, bool not_done)
{
  const struct registry_answer answer = {
    .outcome = REGISTRY_UNREACHABLE, .error = "no answer", .not_done = not_done};
  deliver(index, &answer);
}

size_t fake_open_calls(char out[][160], size_t max)
{
  static const char *const kinds[] = {"lookup", "claim", "release"};
  size_t n = 0;

  for (size_t i = 0; i < fake_call_count && n < max; i++)
    if (fake_calls[i].open)
      snprintf(out[n++], 160, "%s %s", kinds[fake_calls[i].kind], fake_calls[i].id);
  return n;
}

/* the store */
static int find(const char *terminal_id)
{
  for (size_t i = 0; i < stored_count; i++)
    if (strcmp(stored[i], terminal_id) == 0)
      return (int)i;
  return -1;
}

void fake_store_put(const char *terminal_id)
{
  if (find(terminal_id) < 0 && stored_count < FAKE_STORE_MAX)
    snprintf(stored[stored_count++], sizeof *stored, "%s", terminal_id);
}

bool fake_store_has(const char *terminal_id)
{
  return find(terminal_id) >= 0;
}

int store_lookup_terminal(struct store *store, const char *terminal_id,
                          struct store_entry *out_entry)
{
  (void)store;
  if (find(terminal_id) < 0)
    return 0;
  *out_entry = (struct store_entry){
    .vendor = strdup("18d1"), .model = strdup(""), .serial = strdup(""), .first_seen = 1};
  return 1;
}

int store_record_binding(struct store *store, const char *terminal_id,
                         const struct store_entry *entry)
{
  (void)store;
  (void)entry;
  fake_store_put(terminal_id);
  return 0;
}

int store_touch_terminal(struct store *store, const char *terminal_id, uint64_t now)
{
  (void)store;
  (void)now;
  return find(terminal_id) < 0 ? -ENOENT : 0;
}

int store_forget_terminal(struct store *store, const char *terminal_id)
{
  int i = find(terminal_id);

  (void)store;
  if (i >= 0)
    memcpy(stored[i], stored[--stored_count], sizeof *stored);
  return 0;
}

int store_forget_all_terminals(struct store *store)
{
  (void)store;
  stored_count = 0;
  return 0;
}

int store_get_counter(struct store *store, const char *name, uint64_t *out_value)
{
  (void)store;
  (void)name;
  *out_value = counter;
  return 0;
}

int store_set_counter(struct store *store, const char *name, uint64_t value)
{
  (void)store;
  (void)name;
  counter = value;
  return 0;
}

int store_add_release(struct store *store, const char *terminal_id, const char *account,
                      uint64_t since)
{
  (void)store, (void)terminal_id, (void)account, (void)since;
  return 0;
}

int store_drop_release(struct store *store, const char *terminal_id)
{
  (void)store, (void)terminal_id;
  return 0;
}

int store_foreach_release(struct store *store, store_release_fn fn, void *userdata)
{
  (void)store, (void)fn, (void)userdata;
  return 0;
}

void store_entry_clear(struct store_entry *entry)
{
  free(entry->vendor);
  free(entry->model);
  free(entry->serial);
}

/* the identity helper: never configured in these tests */
int identity_helper_run(struct event_base *base, const char *command,
                        const struct identity_device *device, long timeout_ms,
                        identity_done_fn done, void *userdata, struct identity_query **out_query)
{
  (void)base, (void)command, (void)device, (void)timeout_ms, (void)done, (void)userdata;
  (void)out_query;
  return -ENOSYS;
}

void identity_query_cancel(struct identity_query *query)
{
  (void)query;
}

/* the account */
const char *account_id(const struct account *account)
{
  (void)account;
  return fake_account;
}

enum account_state account_state(const struct account *account)
{
  (void)account;
  return fake_account_state;
}

const char *account_state_name(enum account_state state)
{
  return state == ACCOUNT_READY ? "ready" : "other";
}

int account_reset(struct account *account)
{
  (void)account;
  return -EOPNOTSUPP;
}
