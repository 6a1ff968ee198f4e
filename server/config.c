/* Flags and registry.conf; see config.h. */
#include "config.h"

#include "backend.h"
#include "cliconf.h"
#include "log.h"
#include "version.h"
#include "xalloc.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static const char usage[] =
  "Usage: phonebind-registry [OPTION]...\n"
  "       phonebind-registry admin COMMAND [ARG]... [OPTION]...\n"
  "Remembers which client each phone is bound to and hands out shadow accounts.\n\n"
  "  -l, --listen ADDR:PORT   address to listen on (default 127.0.0.1:8470)\n"
  "  -d, --database URI       sqlite:PATH or a path (default registry.db),\n"
  "                           or postgresql://... (a libpq URI)\n"
  "  -s, --state-dir DIR      where the registry keeps its key\n"
  "                           (default $STATE_DIRECTORY, else the database's directory)\n"
  "      --key-file FILE      the terminal-id key (default STATE-DIR/terminal-id.key)\n"
  "  -c, --config FILE        read settings from FILE (INI, same keys as these flags)\n"
  "  -t, --threads N          HTTP threads (default 1)\n"
  "      --tls-cert FILE      serve HTTPS with this certificate chain (PEM)\n"
  "      --tls-key FILE       and this private key (PEM); SIGHUP reloads both\n"
  "      --binding-ttl DURATION  a binding its owner has not renewed for this long\n"
  "                           has lapsed: 90d, 12h, 30m, 45s, or 0 for never (default 0)\n"
  "      --rate-accounts N    shadow accounts per minute per client address (default 60;\n"
  "                           0: no limit)\n"
  "      --rate-requests N    terminal calls per minute per account (default 6000; 0: none)\n"
  "      --max-connections N  connections open at once (default 4096)\n"
  "      --log-level LEVEL    error, warning, info or debug (default info)\n"
  "  -h, --help               show this help\n"
  "  -V, --version            show the version\n"
  "\nAdmin commands (JSON on stdout; see phonebind-registry(8)):\n"
  "  show ID | release ID | revoke ACCOUNT | stats | create-account NAME |\n"
  "  move-bindings FROM TO | backup FILE | new-key FILE\n";

static const struct option options[] = {
  {"listen", required_argument, NULL, 'l'},
  {"database", required_argument, NULL, 'd'},
  {"state-dir", required_argument, NULL, 's'},
  {"key-file", required_argument, NULL, 'K'},
  {"config", required_argument, NULL, 'c'},
  {"threads", required_argument, NULL, 't'},
  {"log-level", required_argument, NULL, 'L'},
  {"help", no_argument, NULL, 'h'},
  {"binding-ttl", required_argument, NULL, 'T'},
  {"version", no_argument, NULL, 'V'},
  {"tls-cert", required_argument, NULL, 'C'},
  {"tls-key", required_argument, NULL, 'k'},
  {"rate-accounts", required_argument, NULL, 'A'},
  {"rate-requests", required_argument, NULL, 'R'},
  {"max-connections", required_argument, NULL, 'M'},
  {NULL, 0, NULL, 0},
};

static void replace(char **slot, const char *value)
{
  free(*slot);
  *slot = xstrdup(value);
}

/* "90d", "12h", "30m", "45s", a plain number of seconds, or "0". */
int registry_parse_duration(const char *text, uint64_t *out_seconds)
{
  static const struct {
    char unit;
    uint64_t seconds;
  } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
  uint64_t n = 0, scale = 1;
  const char *p = text;

  if (*p < '0' || *p > '9')
    return -EINVAL;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (n > (UINT64_MAX - 9) / 10)
      return -ERANGE;
    n = n * 10 + (uint64_t)(*p - '0');
  }
  if (*p) {
    size_t i = 0;
    while (i < sizeof units / sizeof *units && units[i].unit != *p)
      i++;
    if (i == sizeof units / sizeof *units || p[1] != '\0')
      return -EINVAL;
    scale = units[i].seconds;
  }
  if (n > UINT64_MAX / 1000 / scale) /* kept in milliseconds */
    return -ERANGE;
  *out_seconds = n * scale;
  return 0;
}

/* A count from 0 (or 1) to max; logged and -EINVAL otherwise. */
static int parse_count(const char *key, const char *value, unsigned min, unsigned max,
                       unsigned *out)
{
  char *end;
  unsigned long n;

  errno = 0;
  n = strtoul(value, &end, 10);
  if (*value < '0' || *value > '9' || *end != '\0' || errno || n < min || n > max) {
    log_err("%s must be a number from %u to %u, not \"%s\"", key, min, max, value);
    return -EINVAL;
  }
  *out = (unsigned)n;
  return 0;
}

/* One setting by its key name, from a flag or the file alike. */
static int config_set(struct registry_config *config, const char *key, const char *value)
{
  char *end;

  if (strcmp(key, "listen") == 0) {
    replace(&config->listen, value);
  } else if (strcmp(key, "database") == 0) {
    replace(&config->database, value);
  } else if (strcmp(key, "state-dir") == 0) {
    replace(&config->state_dir, value);
  } else if (strcmp(key, "key-file") == 0) {
    replace(&config->key_file, value);
  } else if (strcmp(key, "tls-cert") == 0) {
    replace(&config->tls_cert, value);
  } else if (strcmp(key, "tls-key") == 0) {
    replace(&config->tls_key, value);
  } else if (strcmp(key, "rate-accounts") == 0) {
    return parse_count(key, value, 0, 1000000000, &config->rate_accounts);
  } else if (strcmp(key, "rate-requests") == 0) {
    return parse_count(key, value, 0, 1000000000, &config->rate_requests);
  } else if (strcmp(key, "max-connections") == 0) {
    return parse_count(key, value, 1, 1000000, &config->max_connections);
  } else if (strcmp(key, "threads") == 0) {
    long n = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || n < 1 || n > 64) {
      log_err("threads must be a number from 1 to 64, not \"%s\"", value);
      return -EINVAL;
    }
    config->threads = (int)n;
  } else if (strcmp(key, "binding-ttl") == 0) {
    if (registry_parse_duration(value, &config->binding_ttl_s) < 0) {
      log_err("binding-ttl must be a duration such as 90d, 12h, 30m, 45s or 0, not \"%s\"", value);
      return -EINVAL;
    }
  } else if (strcmp(key, "log-level") == 0) {
    config->log_level = log_level_from_name(value);
    if (config->log_level < 0) {
      log_err("unknown log level \"%s\"", value);
      return -EINVAL;
    }
  } else {
    log_err("unknown setting \"%s\"", key);
    return -EINVAL;
  }
  return 0;
}

static int set_entry(void *settings, const char *key, const char *value)
{
  return config_set(settings, key, value);
}

int registry_config_parse(int argc, char **argv, struct registry_config *config)
{
  return registry_config_parse_args(argc, argv, config, NULL);
}

int registry_config_parse_args(int argc, char **argv, struct registry_config *config, int *args_at)
{
  const struct cliconf conf = {
    .program = "phonebind-registry",
    .options = options,
    .short_options = "l:d:s:c:t:hV",
    .section = "registry",
    .usage = usage,
    .version = "phonebind-registry " PHONEBIND_VERSION,
    .set = set_entry,
    .settings = config,
    .args_at = args_at,
  };

  *config = (struct registry_config){.listen = xstrdup("127.0.0.1:8470"),
                                     .database = xstrdup("registry.db"),
                                     .threads = 1,
                                     .rate_accounts = 60,
                                     .rate_requests = 6000,
                                     .max_connections = 4096,
                                     .log_level = LOG_INFO};
  return cliconf_parse(&conf, argc, argv);
}

void registry_config_clear(struct registry_config *config)
{
  free(config->listen);
  free(config->database);
  free(config->state_dir);
  free(config->key_file);
  free(config->tls_cert);
  free(config->tls_key);
}

char *registry_config_state_dir(const struct registry_config *config)
{
  const char *from_systemd = getenv("STATE_DIRECTORY");
  const char *path;
  char *copy, *dir;

  if (config->state_dir)
    return xstrdup(config->state_dir);
  if (from_systemd && *from_systemd) /* may list several, colon-separated */
    return xstrndup(from_systemd, strcspn(from_systemd, ":"));
  path = backend_uri_sqlite_path(config->database);
  if (!path)
    return xstrdup(".");
  copy = xstrdup(path);
  dir = xstrdup(dirname(copy));
  free(copy);
  return dir;
}

char *registry_config_key_file(const struct registry_config *config)
{
  _cleanup_free_ char *state_dir = NULL;

  if (config->key_file)
    return xstrdup(config->key_file);
  state_dir = registry_config_state_dir(config);
  return xasprintf("%s/terminal-id.key", state_dir);
}
