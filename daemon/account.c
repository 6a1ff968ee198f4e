/* Account and token; see account.h. */
#include "account.h"

#include "bus.h"
#include "daemon.h"
#include "log.h"
#include "registry_client.h"
#include "secret_file.h"
#include "terminal.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHADOW_FILE "account"

static void account_set(struct daemon *daemon, const char *account, const char *token)
{
  free(daemon->account);
  daemon->account = xstrdup(account);
  registry_client_set_token(daemon->registry, token);
  log_info("account %s", account);
  bus_emit_account_changed(daemon->bus);
  terminal_kick_waiting(daemon);
}

/* The shadow account file holds "ACCOUNT TOKEN" on one line. */
static int load_shadow(struct daemon *daemon)
{
  _cleanup_free_ char *path = xasprintf("%s/" SHADOW_FILE, daemon->config.state_dir);
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

  log_warn("cannot obtain a shadow account (%s); trying again in %.1f s", why, delay);
  evtimer_add(daemon->account_timer, &tv);
  if (!daemon->account_failed) {
    daemon->account_failed = true;
    terminal_kick_waiting(daemon); /* their registry calls now fail: pending */
  }
}

static void on_shadow(const struct registry_answer *answer, void *userdata)
{
  struct daemon *daemon = userdata;
  _cleanup_free_ char *path = xasprintf("%s/" SHADOW_FILE, daemon->config.state_dir);
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
  const char *credentials = getenv("CREDENTIALS_DIRECTORY");
  _cleanup_free_ char *credential = NULL;

  backoff_init(&daemon->account_backoff, daemon->config.retry_initial_s,
               daemon->config.retry_max_s);
  daemon->account_timer = evtimer_new(daemon->base, on_account_timer, daemon);
  if (daemon->config.token_file)
    return load_configured(daemon, daemon->config.token_file);
  if (credentials) {
    credential = xasprintf("%s/token", credentials);
    if (access(credential, R_OK) == 0)
      return load_configured(daemon, credential);
  }
  if (load_shadow(daemon) < 0)
    request_shadow(daemon);
  return 0;
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
