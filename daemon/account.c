/* Account and token; see account.h. */
#include "account.h"

#include "backoff.h"
#include "clock.h"
#include "log.h"
#include "registry_client.h"
#include "secret_file.h"
#include "uri_mask.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHADOW_FILE "account"

struct account {
  struct event_base *base;
  struct registry_client *registry;
  const struct clock *clock;
  char *state_dir, *token_file, *name, *registry_url; /* copies of the options' */
  struct account_handlers handlers;
  char *id; /* NULL until known */
  enum account_state state;
  bool shadow;                   /* ours to replace (ResetAccount), not configured */
  struct registry_call *request; /* a shadow account on its way */
  struct event *timer;           /* ... or its next attempt */
  struct backoff backoff;
};

const char *account_state_name(enum account_state state)
{
  static const char *const names[] = {
    [ACCOUNT_READY] = "ready",
    [ACCOUNT_REQUESTING] = "requesting",
    [ACCOUNT_REFUSED] = "refused",
    [ACCOUNT_UNREACHABLE] = "unreachable",
  };
  return names[state];
}

const char *account_id(const struct account *account)
{
  return account->id;
}

enum account_state account_state(const struct account *account)
{
  return account->state;
}

bool account_is_shadow(const struct account *account)
{
  return account->shadow;
}

static void log_refused(const struct account *account)
{
  if (account->shadow)
    log_err(
      "the registry refused the token of this PC's shadow account %s (its database was "
      "reset, or the account revoked). Phones wait as pending/account-refused. To start "
      "afresh with a new shadow account (this PC's bindings under the old one are lost "
      "to it): phonebindctl reset-account",
      account->id);
  else
    log_err(
      "the registry refused the token of account %s. Phones wait as "
      "pending/account-refused. Put a valid token in %s and reload (SIGHUP)",
      account->id, account->token_file ? account->token_file : "the token credential");
}

/* Said once per change, not once per phone or per retry. */
static void log_change(const struct account *account, enum account_state from,
                       enum account_state to, const char *why)
{
  if (to == ACCOUNT_REFUSED)
    log_refused(account);
  else if (to == ACCOUNT_UNREACHABLE)
    log_warn("registry %s unreachable (%s); phones that need it wait and retry",
             account->registry_url, why);
  else if (to == ACCOUNT_READY && from == ACCOUNT_UNREACHABLE)
    log_info("registry %s reachable again", account->registry_url);
  else if (to == ACCOUNT_READY && from == ACCOUNT_REFUSED)
    log_info("the registry accepts the token of account %s again", account->id);
}

static void changed(struct account *account)
{
  if (account->handlers.changed)
    account->handlers.changed(account->handlers.userdata);
}

static void set_state(struct account *account, enum account_state state, const char *why)
{
  enum account_state from = account->state;

  if (from == state)
    return;
  account->state = state;
  log_change(account, from, state, why);
  changed(account);
}

void account_observe(const struct registry_answer *answer, void *userdata)
{
  struct account *account = userdata;

  if (!account->id)
    return; /* a shadow account's own request: on_shadow judges it */
  if (answer->outcome == REGISTRY_ANSWERED && answer->http_status == 401)
    set_state(account, ACCOUNT_REFUSED, answer->error);
  else if (answer->outcome != REGISTRY_ANSWERED && account->state == ACCOUNT_READY)
    set_state(account, ACCOUNT_UNREACHABLE, answer->error);
  else if (answer->outcome == REGISTRY_ANSWERED)
    set_state(account, ACCOUNT_READY, answer->error);
}

static void account_set(struct account *account, const char *id, const char *token)
{
  free(account->id);
  account->id = xstrdup(id);
  registry_client_set_token(account->registry, token);
  log_info("account %s", id);
  if (account->state != ACCOUNT_READY)
    log_change(account, account->state, ACCOUNT_READY, "");
  account->state = ACCOUNT_READY;
  changed(account);
}

static char *shadow_path(const struct account *account)
{
  return xasprintf("%s/" SHADOW_FILE, account->state_dir);
}

/* The shadow account file holds "ACCOUNT TOKEN" on one line. */
static int load_shadow(struct account *account)
{
  _cleanup_free_ char *path = shadow_path(account);
  _cleanup_free_ char *text = NULL;
  char *space;
  int r = secret_file_read_text(path, &text);

  if (r < 0)
    return r;
  space = strchr(text, ' ');
  if (!space || space == text || space[1] == '\0') {
    log_err("%s is malformed; a new shadow account will be obtained", path);
    return -EBADMSG;
  }
  *space = '\0';
  account_set(account, text, space + 1);
  return 0;
}

static void request_shadow(struct account *account);

static void on_timer(evutil_socket_t fd, short events, void *arg)
{
  (void)fd;
  (void)events;
  request_shadow(arg);
}

/* Warned once; the retries after it are debug lines. */
static void retry_shadow(struct account *account, const char *why, unsigned retry_after_s)
{
  double delay = backoff_next_delay(&account->backoff, clock_random(account->clock));
  struct timeval tv;

  if (delay < retry_after_s) /* 429: the registry limits account creation */
    delay = retry_after_s;
  tv = clock_timeval(delay);
  bool first = account->state != ACCOUNT_UNREACHABLE;

  log_msg(first ? LOG_WARNING : LOG_DEBUG,
          "cannot obtain a shadow account (%s); trying again in %.1f s", why, delay);
  evtimer_add(account->timer, &tv);
  if (first) {
    account->state = ACCOUNT_UNREACHABLE;
    changed(account); /* the phones waiting for it now fail: pending */
  }
}

static void on_shadow(const struct registry_answer *answer, void *userdata)
{
  struct account *account = userdata;
  _cleanup_free_ char *path = shadow_path(account);
  _cleanup_free_ char *line = NULL;
  int r;

  account->request = NULL;
  if (answer->outcome != REGISTRY_ANSWERED) {
    retry_shadow(account, answer->error, answer->retry_after_s);
    return;
  }
  line = xasprintf("%s %s", answer->account, answer->token);
  r = secret_file_write_text(path, line);
  if (r < 0) /* still usable for this run; the next start asks again */
    log_err("cannot save the shadow account to %s: %s", path, strerror(-r));
  account_set(account, answer->account, answer->token);
}

static void request_shadow(struct account *account)
{
  int r = registry_client_create_account(account->registry, on_shadow, account, &account->request);

  if (r < 0)
    retry_shadow(account, strerror(-r), 0);
}

/* A configured account's token: the file named, else systemd's
 * LoadCredential=token:…; NULL when neither is there (a shadow account). */
static char *configured_token_path(const struct account *account)
{
  const char *credentials = getenv("CREDENTIALS_DIRECTORY");
  char *path;

  if (account->token_file)
    return xstrdup(account->token_file);
  if (!credentials)
    return NULL;
  path = xasprintf("%s/token", credentials);
  if (access(path, R_OK) == 0)
    return path;
  free(path);
  return NULL;
}

static int load_configured(struct account *account, const char *token_path)
{
  _cleanup_free_ char *token = NULL;
  int r = secret_file_read_text(token_path, &token);

  if (r < 0) {
    log_err("cannot read the token file %s: %s", token_path,
            r == -EBADMSG ? "empty or too large" : strerror(-r));
    return r;
  }
  account_set(account, account->name ? account->name : "configured", token);
  return 0;
}

static char *copy_or_null(const char *s)
{
  return s ? xstrdup(s) : NULL;
}

struct account *account_new(const struct account_options *options)
{
  struct account *account = xcalloc(1, sizeof *account);

  account->base = options->base;
  account->registry = options->registry;
  account->clock = options->clock;
  account->state_dir = copy_or_null(options->state_dir);
  account->token_file = copy_or_null(options->token_file);
  account->name = copy_or_null(options->name);
  account->registry_url = uri_mask_credentials(options->registry_url); /* for the log */
  account->state = ACCOUNT_REQUESTING;
  backoff_init(&account->backoff, options->retry_initial_s, options->retry_max_s);
  account->timer = evtimer_new(options->base, on_timer, account);
  return account;
}

int account_start(struct account *account, const struct account_handlers *handlers)
{
  _cleanup_free_ char *token_path = configured_token_path(account);

  account->handlers = *handlers;
  if (token_path)
    return load_configured(account, token_path);
  account->shadow = true;
  if (load_shadow(account) < 0)
    request_shadow(account);
  return 0;
}

int account_reset(struct account *account)
{
  _cleanup_free_ char *path = shadow_path(account);
  _cleanup_free_ char *kept = xasprintf("%s.refused", path);

  if (!account->shadow)
    return -EOPNOTSUPP;
  if (account->state != ACCOUNT_REFUSED)
    return -EALREADY;
  log_notice(
    "ResetAccount: the refused shadow account %s is dropped (kept as %s), with this "
    "PC's local records made under it; asking the registry for a new one",
    account->id, kept);
  if (rename(path, kept) < 0 && errno != ENOENT)
    log_err("cannot move %s aside: %s", path, strerror(errno));
  free(account->id);
  account->id = NULL;
  registry_client_set_token(account->registry, NULL);
  account->state = ACCOUNT_REQUESTING;
  changed(account);
  backoff_reset(&account->backoff);
  request_shadow(account);
  return 0;
}

void account_reload(struct account *account)
{
  _cleanup_free_ char *token_path = NULL;

  if (account->shadow)
    return;
  token_path = configured_token_path(account);
  if (token_path && load_configured(account, token_path) == 0)
    log_info("token reloaded from %s", token_path);
}

void account_free(struct account *account)
{
  if (!account)
    return;
  registry_call_cancel(account->request);
  if (account->timer)
    event_free(account->timer);
  free(account->id);
  free(account->state_dir);
  free(account->token_file);
  free(account->name);
  free(account->registry_url);
  free(account);
}
