/* Account and token; see account.h. */
#include "account.h"

#include "bus.h"
#include "daemon.h"
#include "log.h"
#include "registry_client.h"
#include "release.h"
#include "secret_file.h"
#include "store.h"
#include "terminal.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHADOW_FILE "account"

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

static void log_refused(struct daemon *daemon)
{
  if (daemon->account_shadow)
    log_err("the registry refused the token of this PC's shadow account %s (its database was "
            "reset, or the account revoked). Phones wait as pending/account-refused. To start "
            "afresh with a new shadow account (this PC's bindings under the old one are lost "
            "to it): phonebindctl reset-account",
            daemon->account);
  else
    log_err("the registry refused the token of account %s. Phones wait as "
            "pending/account-refused. Put a valid token in %s and reload (SIGHUP)",
            daemon->account, daemon->config.token_file ? daemon->config.token_file
                                                       : "the token credential");
}

/* Said once per change, not once per phone or per retry. */
static void log_change(struct daemon *daemon, enum account_state from, enum account_state to,
                       const char *why)
{
  if (to == ACCOUNT_REFUSED)
    log_refused(daemon);
  else if (to == ACCOUNT_UNREACHABLE)
    log_warn("registry %s unreachable (%s); phones that need it wait and retry",
             daemon->config.registry, why);
  else if (to == ACCOUNT_READY && from == ACCOUNT_UNREACHABLE)
    log_info("registry %s reachable again", daemon->config.registry);
  else if (to == ACCOUNT_READY && from == ACCOUNT_REFUSED)
    log_info("the registry accepts the token of account %s again", daemon->account);
}

static void set_state(struct daemon *daemon, enum account_state state, const char *why)
{
  enum account_state from = daemon->account_state;

  if (from == state)
    return;
  daemon->account_state = state;
  log_change(daemon, from, state, why);
  bus_emit_account_state(daemon->bus);
}

void account_observe(const struct registry_answer *answer, void *userdata)
{
  struct daemon *daemon = userdata;

  if (answer->outcome == REGISTRY_ANSWERED && answer->http_status == 401)
    set_state(daemon, ACCOUNT_REFUSED, answer->error);
  else if (answer->outcome != REGISTRY_ANSWERED && daemon->account &&
           daemon->account_state == ACCOUNT_READY)
    set_state(daemon, ACCOUNT_UNREACHABLE, answer->error);
  else if (answer->outcome == REGISTRY_ANSWERED && daemon->account)
    set_state(daemon, ACCOUNT_READY, answer->error);
}

static void account_set(struct daemon *daemon, const char *account, const char *token)
{
  free(daemon->account);
  daemon->account = xstrdup(account);
  registry_client_set_token(daemon->registry, token);
  log_info("account %s", account);
  set_state(daemon, ACCOUNT_READY, "");
  bus_emit_account_changed(daemon->bus);
  releaser_set_account(daemon->releaser, account);
  terminal_kick_waiting(daemon);
}

static char *shadow_path(const struct daemon *daemon)
{
  return xasprintf("%s/" SHADOW_FILE, daemon->config.state_dir);
}

/* The shadow account file holds "ACCOUNT TOKEN" on one line. */
static int load_shadow(struct daemon *daemon)
{
  _cleanup_free_ char *path = shadow_path(daemon);
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
  account_set(daemon, text, space + 1);
  return 0;
}

static void request_shadow(struct daemon *daemon);

static void on_account_timer(evutil_socket_t fd, short events, void *arg)
{
  (void)fd;
  (void)events;
  request_shadow(arg);
}

static void retry_shadow(struct daemon *daemon, const char *why)
{
  double delay = backoff_next_delay(&daemon->account_backoff, daemon_random_unit());
  struct timeval tv = {(time_t)delay, (suseconds_t)((delay - floor(delay)) * 1e6)};
  bool first = daemon->account_state != ACCOUNT_UNREACHABLE;

  log_msg(first ? LOG_WARNING : LOG_DEBUG,
          "cannot obtain a shadow account (%s); trying again in %.1f s", why, delay);
  evtimer_add(daemon->account_timer, &tv);
  if (first) {
    daemon->account_state = ACCOUNT_UNREACHABLE;
    bus_emit_account_state(daemon->bus);
    terminal_kick_waiting(daemon); /* their registry calls now fail: pending */
  }
}

static void on_shadow(const struct registry_answer *answer, void *userdata)
{
  struct daemon *daemon = userdata;
  _cleanup_free_ char *path = shadow_path(daemon);
  _cleanup_free_ char *line = NULL;
  int r;

  daemon->account_call = NULL;
  if (answer->outcome != REGISTRY_ANSWERED) {
    retry_shadow(daemon, answer->error);
    return;
  }
  line = xasprintf("%s %s", answer->account, answer->token);
  r = secret_file_write_text(path, line);
  if (r < 0) /* still usable for this run; the next start asks again */
    log_err("cannot save the shadow account to %s: %s", path, strerror(-r));
  account_set(daemon, answer->account, answer->token);
}

static void request_shadow(struct daemon *daemon)
{
  int r = registry_client_create_account(daemon->registry, on_shadow, daemon,
                                         &daemon->account_call);

  if (r < 0)
    retry_shadow(daemon, strerror(-r));
}

static const char *credential_token_path(char *buf, size_t size)
{
  const char *credentials = getenv("CREDENTIALS_DIRECTORY");

  if (!credentials)
    return NULL;
  snprintf(buf, size, "%s/token", credentials);
  return access(buf, R_OK) == 0 ? buf : NULL;
}

/* A configured account: the token from token-file, or from systemd's
 * LoadCredential=token:… when no file is named. */
static int load_configured(struct daemon *daemon, const char *token_path)
{
  _cleanup_free_ char *token = NULL;
  int r = secret_file_read_text(token_path, &token);

  if (r < 0) {
    log_err("cannot read the token file %s: %s", token_path,
            r == -EBADMSG ? "empty or too large" : strerror(-r));
    return r;
  }
  account_set(daemon, daemon->config.account ? daemon->config.account : "configured", token);
  return 0;
}

int account_start(struct daemon *daemon)
{
  char credential[4096];
  const char *token_path = daemon->config.token_file;

  backoff_init(&daemon->account_backoff, daemon->config.retry_initial_s,
               daemon->config.retry_max_s);
  daemon->account_timer = evtimer_new(daemon->base, on_account_timer, daemon);
  if (!token_path)
    token_path = credential_token_path(credential, sizeof credential);
  if (token_path)
    return load_configured(daemon, token_path);
  daemon->account_shadow = true;
  daemon->account_state = ACCOUNT_REQUESTING;
  if (load_shadow(daemon) < 0)
    request_shadow(daemon);
  return 0;
}

int account_reset(struct daemon *daemon)
{
  _cleanup_free_ char *path = shadow_path(daemon);
  _cleanup_free_ char *kept = xasprintf("%s.refused", path);
  int r;

  if (!daemon->account_shadow)
    return -EOPNOTSUPP;
  if (daemon->account_state != ACCOUNT_REFUSED)
    return -EALREADY;
  log_notice("ResetAccount: the refused shadow account %s is dropped (kept as %s), with this "
             "PC's local records made under it; asking the registry for a new one",
             daemon->account, kept);
  if (rename(path, kept) < 0 && errno != ENOENT)
    log_err("cannot move %s aside: %s", path, strerror(errno));
  r = daemon->store ? store_forget_all_terminals(daemon->store) : 0;
  if (r < 0)
    log_err("cannot drop the local records of the old account: %s", strerror(-r));
  free(daemon->account);
  daemon->account = NULL;
  registry_client_set_token(daemon->registry, NULL);
  releaser_set_account(daemon->releaser, NULL);
  daemon->account_state = ACCOUNT_REQUESTING;
  bus_emit_account_state(daemon->bus);
  bus_emit_account_changed(daemon->bus);
  backoff_reset(&daemon->account_backoff);
  request_shadow(daemon);
  return 0;
}

void account_reload(struct daemon *daemon)
{
  char credential[4096];
  const char *token_path = daemon->config.token_file;

  if (daemon->account_shadow)
    return;
  if (!token_path)
    token_path = credential_token_path(credential, sizeof credential);
  if (token_path && load_configured(daemon, token_path) == 0)
    log_info("token reloaded from %s", token_path);
}

void account_stop(struct daemon *daemon)
{
  registry_call_cancel(daemon->account_call);
  daemon->account_call = NULL;
  if (daemon->account_timer)
    event_free(daemon->account_timer);
  daemon->account_timer = NULL;
  free(daemon->account);
  daemon->account = NULL;
}
