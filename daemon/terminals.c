/* The hub; see terminals.h. */
#include "terminals.h"

#include "account.h"
#include "config.h"
#include "log.h"
#include "release.h"
#include "renew.h"
#include "store.h"
#include "strmap.h"
#include "terminal.h"
#include "uri_mask.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct terminals {
  struct hub hub;            /* first: publish() finds us from it */
  struct strmap *by_syspath; /* struct terminal *, every attached phone */
  struct strmap *by_handle;  /* the same terminals once published */
  uint64_t generation;       /* of the latest enumeration; terminals carry theirs */
  char *registry_shown;      /* the registry URL without credentials, for the bus */
};

static bool publish(struct hub *hub, struct terminal *terminal)
{
  struct terminals *terminals = (struct terminals *)hub;
  struct terminal *holder = strmap_get(terminals->by_handle, terminal->handle);

  if (holder && holder != terminal)
    return false;
  strmap_put(terminals->by_handle, terminal->handle, terminal);
  return true;
}

static void unpublish(struct hub *hub, struct terminal *terminal, const char *handle)
{
  struct terminals *terminals = (struct terminals *)hub;

  if (strmap_get(terminals->by_handle, handle) == terminal)
    strmap_remove(terminals->by_handle, handle);
}

struct terminals *terminals_new(const struct hub *deps)
{
  struct terminals *terminals = xcalloc(1, sizeof *terminals);

  terminals->hub = *deps;
  terminals->hub.publish = publish;
  terminals->hub.unpublish = unpublish;
  terminals->by_syspath = strmap_new();
  terminals->by_handle = strmap_new();
  terminals->registry_shown = uri_mask_credentials(deps->config->registry);
  return terminals;
}

/* A snapshot, so that a walk may detach or feed. */
static struct terminal **all_terminals(struct terminals *terminals, size_t *out_count)
{
  return (struct terminal **)strmap_values(terminals->by_syspath, out_count);
}

static void forget_terminal(struct terminals *terminals, struct terminal *terminal)
{
  strmap_remove(terminals->by_syspath, terminal->syspath);
  if (terminal->published && strmap_get(terminals->by_handle, terminal->handle) == terminal)
    strmap_remove(terminals->by_handle, terminal->handle);
  terminal_free(terminal);
}

void terminals_free(struct terminals *terminals)
{
  size_t count;
  struct terminal **all;

  if (!terminals)
    return;
  all = all_terminals(terminals, &count);
  for (size_t i = 0; i < count; i++)
    forget_terminal(terminals, all[i]);
  free(all);
  strmap_free(terminals->by_syspath);
  strmap_free(terminals->by_handle);
  free(terminals->registry_shown);
  free(terminals);
}

size_t terminals_count(const struct terminals *terminals)
{
  return strmap_size(terminals->by_syspath);
}

static void detach(struct terminals *terminals, struct terminal *terminal)
{
  log_info("%s: detached", terminal->handle[0] ? terminal->handle : terminal->syspath);
  if (terminal->published)
    bus_emit_detached(terminals->hub.bus, terminal->handle);
  forget_terminal(terminals, terminal);
}

void terminals_detached(const char *syspath, void *userdata)
{
  struct terminals *terminals = userdata;
  struct terminal *terminal = strmap_get(terminals->by_syspath, syspath);

  if (terminal) /* else not a phone of ours */
    detach(terminals, terminal);
}

void terminals_attached(const char *syspath, const struct phone_info *info, void *userdata)
{
  struct terminals *terminals = userdata;
  struct terminal *terminal = strmap_get(terminals->by_syspath, syspath);

  if (terminal && phone_info_same_attachment(&terminal->info, info)) {
    terminal_seen_again(terminal, terminals->generation); /* monitor and enumeration overlap */
    return;
  }
  if (terminal) { /* its remove was lost: another phone, or the same plugged in again */
    log_info("%s: another attachment at %s; the earlier one is gone",
             terminal->handle[0] ? terminal->handle : syspath, syspath);
    detach(terminals, terminal);
  }
  terminal = terminal_new(&terminals->hub, syspath, info, terminals->generation);
  strmap_put(terminals->by_syspath, syspath, terminal);
  terminal_start(terminal);
}

/* After lost events: whatever the rescan did not see again is gone. Each
 * enumeration has a generation; a terminal carries the one that last saw
 * it (seconds would keep a phone added and removed within the second). */
void terminals_rescan_begin(void *userdata)
{
  struct terminals *terminals = userdata;

  terminals->generation++;
}

void terminals_rescan_end(void *userdata)
{
  struct terminals *terminals = userdata;
  size_t count;
  struct terminal **all = all_terminals(terminals, &count);

  for (size_t i = 0; i < count; i++)
    if (all[i]->generation < terminals->generation)
      detach(terminals, all[i]);
  free(all);
}

void terminals_renew_due(const char *syspath, void *userdata)
{
  struct terminals *terminals = userdata;
  struct terminal *terminal = strmap_get(terminals->by_syspath, syspath);

  if (terminal)
    terminal_renew(terminal);
  else
    renewer_untrack(terminals->hub.renewer, syspath);
}

void terminals_account_changed(void *userdata)
{
  struct terminals *terminals = userdata;
  struct account *account = terminals->hub.account;
  enum account_state state = account_state(account);
  size_t count;
  struct terminal **all;

  bus_emit_account_changed(terminals->hub.bus);
  releaser_set_account(terminals->hub.releaser, account_id(account));
  /* Waiting phones go now when there is something to go with (an
   * account the registry takes), or must hear that there is none. */
  if (state != ACCOUNT_READY && (account_id(account) || state != ACCOUNT_UNREACHABLE))
    return;
  all = all_terminals(terminals, &count);
  for (size_t i = 0; i < count; i++)
    terminal_kick(all[i]);
  free(all);
}

/* What the bus asks. */
static void on_manager(void *userdata, struct bus_manager_view *out_view)
{
  struct terminals *terminals = userdata;

  *out_view = (struct bus_manager_view){
    .account = account_id(terminals->hub.account),
    .account_state = account_state_name(account_state(terminals->hub.account)),
    .registry_url = terminals->registry_shown, /* any password stays ours */
  };
}

static struct terminal *published(struct terminals *terminals, const char *handle)
{
  return strmap_get(terminals->by_handle, handle);
}

static bool on_terminal(void *userdata, const char *handle, struct bus_terminal_view *out_view)
{
  struct terminal *terminal = published(userdata, handle);

  if (terminal)
    terminal_view(terminal, out_view);
  return terminal != NULL;
}

static size_t on_count(void *userdata)
{
  struct terminals *terminals = userdata;

  return strmap_size(terminals->by_handle);
}

struct handle_walk {
  void (*fn)(const char *handle, void *arg);
  void *arg;
};

static void visit_handle(const char *key, void *value, void *userdata)
{
  struct handle_walk *walk = userdata;

  (void)value;
  walk->fn(key, walk->arg);
}

static void on_foreach(void *userdata, void (*fn)(const char *handle, void *arg), void *arg)
{
  struct terminals *terminals = userdata;
  struct handle_walk walk = {fn, arg};

  strmap_foreach(terminals->by_handle, visit_handle, &walk);
}

static void on_forget(void *userdata, const char *handle, bus_done_fn done, void *call)
{
  struct terminal *terminal = published(userdata, handle);

  if (!terminal)
    done(-ENODEV, call);
  else
    terminal_forget(terminal, done, call);
}

static int on_retry(void *userdata, const char *handle)
{
  struct terminal *terminal = published(userdata, handle);

  return terminal ? terminal_retry(terminal) : -ENODEV;
}

/* The records made under the refused account are not this client's. */
static int on_reset_account(void *userdata)
{
  struct terminals *terminals = userdata;
  struct store *store = terminals->hub.store;
  int r = account_reset(terminals->hub.account);

  if (r < 0)
    return r;
  r = store ? store_forget_all_terminals(store) : 0;
  if (r < 0)
    log_err("cannot drop the local records of the old account: %s", strerror(-r));
  return 0;
}

void terminals_bus_handlers(struct terminals *terminals, struct bus_handlers *out_handlers)
{
  *out_handlers = (struct bus_handlers){
    .manager = on_manager,
    .terminal = on_terminal,
    .terminal_count = on_count,
    .foreach_terminal = on_foreach,
    .forget = on_forget,
    .retry = on_retry,
    .reset_account = on_reset_account,
    .userdata = terminals,
  };
}
