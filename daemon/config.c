/* Flags and phonebindd.conf; see config.h. */
#include "config.h"

#include "cliconf.h"
#include "log.h"
#include "version.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define DEFAULT_CONFIG "/etc/phonebind/phonebindd.conf"

static const char usage[] =
  "Usage: phonebindd [OPTION]...\n"
  "Decides whether an attached phone may be bound to this PC's client and\n"
  "announces the decision on the D-Bus system bus (org.phonebind1).\n\n"
  "  -c, --config FILE           settings file (default /etc/phonebind/phonebindd.conf)\n"
  "  -r, --registry URL          the registry (default http://127.0.0.1:8470)\n"
  "      --registry-ca FILE      verify the registry's certificate by this CA\n"
  "      --registry-pin PIN      and pin its public key (sha256//BASE64)\n"
  "      --allow-insecure-registry[=yes|no]  allow an http:// registry off loopback\n"
  "  -s, --state-dir DIR         local store and keys (default $STATE_DIRECTORY,\n"
  "                              else /var/lib/phonebind)\n"
  "  -i, --identity-helper CMD   program that prints a phone's IMEI\n"
  "      --identifier RULE       serial (default) or imei\n"
  "      --account ID            the client's account on the registry\n"
  "      --token-file FILE       that account's token (else a shadow account)\n"
  "      --retry-initial SEC     first retry after a registry failure (0.5)\n"
  "      --retry-max SEC         longest retry interval (10)\n"
  "      --max-in-flight N       concurrent registry requests (32)\n"
  "      --helper-timeout MS     identity helper time limit (5000)\n"
  "      --registry-timeout MS   registry request time limit (5000)\n"
  "      --log-level LEVEL       error, warning, info or debug (info)\n"
  "      --hide-serials[=yes|no] show phones' serials to privileged callers only\n"
  "  -h, --help                  show this help\n"
  "  -V, --version               show the version\n";

static const struct option options[] = {
  {"config", required_argument, NULL, 'c'},
  {"registry", required_argument, NULL, 'r'},
  {"state-dir", required_argument, NULL, 's'},
  {"identity-helper", required_argument, NULL, 'i'},
  {"identifier", required_argument, NULL, 1},
  {"account", required_argument, NULL, 2},
  {"token-file", required_argument, NULL, 3},
  {"retry-initial", required_argument, NULL, 4},
  {"retry-max", required_argument, NULL, 5},
  {"max-in-flight", required_argument, NULL, 6},
  {"helper-timeout", required_argument, NULL, 7},
  {"registry-timeout", required_argument, NULL, 8},
  {"log-level", required_argument, NULL, 9},
  {"registry-ca", required_argument, NULL, 10},
  {"registry-pin", required_argument, NULL, 11},
  {"allow-insecure-registry", optional_argument, NULL, 12},
  {"hide-serials", optional_argument, NULL, 13},
  {"help", no_argument, NULL, 'h'},
  {"version", no_argument, NULL, 'V'},
  {NULL, 0, NULL, 0},
};

static int parse_number(const char *key, const char *value, double min, double max, double *out)
{
  char *end;
  double n = strtod(value, &end);

  if (*value == '\0' || *end != '\0' || !(n >= min && n <= max)) {
    log_err("%s must be a number from %g to %g, not \"%s\"", key, min, max, value);
    return -EINVAL;
  }
  *out = n;
  return 0;
}

static void replace(char **slot, const char *value)
{
  free(*slot);
  *slot = *value ? xstrdup(value) : NULL;
}

static int set_number(struct daemon_config *config, const char *key, const char *value)
{
  double n;

  if (strcmp(key, "retry-initial") == 0 && parse_number(key, value, 0.01, 3600, &n) == 0)
    config->retry_initial_s = n;
  else if (strcmp(key, "retry-max") == 0 && parse_number(key, value, 0.01, 86400, &n) == 0)
    config->retry_max_s = n;
  else if (strcmp(key, "max-in-flight") == 0 && parse_number(key, value, 1, 1024, &n) == 0)
    config->max_in_flight = (unsigned)n;
  else if (strcmp(key, "helper-timeout") == 0 && parse_number(key, value, 10, 600000, &n) == 0)
    config->helper_timeout_ms = (long)n;
  else if (strcmp(key, "registry-timeout") == 0 && parse_number(key, value, 10, 600000, &n) == 0)
    config->registry_timeout_ms = (long)n;
  else
    return -EINVAL;
  return 0;
}

static bool is_number_key(const char *key)
{
  static const char *const keys[] = {"retry-initial", "retry-max", "max-in-flight",
                                     "helper-timeout", "registry-timeout"};

  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    if (strcmp(key, keys[i]) == 0)
      return true;
  return false;
}

static int config_set(void *settings, const char *key, const char *value)
{
  struct daemon_config *config = settings;

  if (strcmp(key, "registry") == 0)
    replace(&config->registry, value);
  else if (strcmp(key, "state-dir") == 0)
    replace(&config->state_dir, value);
  else if (strcmp(key, "identity-helper") == 0)
    replace(&config->identity_helper, value);
  else if (strcmp(key, "account") == 0)
    replace(&config->account, value);
  else if (strcmp(key, "token-file") == 0)
    replace(&config->token_file, value);
  else if (strcmp(key, "registry-ca") == 0)
    replace(&config->registry_ca, value);
  else if (strcmp(key, "registry-pin") == 0)
    replace(&config->registry_pin, value);
  else if (strcmp(key, "allow-insecure-registry") == 0)
    return cliconf_set_bool(key, value, &config->allow_insecure_registry);
  else if (strcmp(key, "hide-serials") == 0)
    return cliconf_set_bool(key, value, &config->hide_serials);
  else if (strcmp(key, "identifier") == 0) {
    if (terminal_id_rule_from_name(value, &config->identifier) < 0) {
      log_err("identifier must be \"serial\" or \"imei\", not \"%s\"", value);
      return -EINVAL;
    }
  } else if (strcmp(key, "log-level") == 0) {
    config->log_level = log_level_from_name(value);
    if (config->log_level < 0) {
      log_err("unknown log level \"%s\"", value);
      return -EINVAL;
    }
  } else if (is_number_key(key)) {
    return set_number(config, key, value);
  } else {
    log_err("unknown setting \"%s\"", key);
    return -EINVAL;
  }
  return 0;
}

int daemon_config_parse(int argc, char **argv, struct daemon_config *config)
{
  const char *state_dir = getenv("STATE_DIRECTORY");
  const struct cliconf conf = {
    .program = "phonebindd",
    .options = options,
    .short_options = "c:r:s:i:hV",
    .section = "daemon",
    .usage = usage,
    .version = "phonebindd " PHONEBIND_VERSION,
    .default_config = DEFAULT_CONFIG,
    .set = config_set,
    .settings = config,
  };

  *config = (struct daemon_config){
    .registry = xstrdup("http://127.0.0.1:8470"),
    .state_dir = state_dir && *state_dir ? xstrndup(state_dir, strcspn(state_dir, ":"))
                                         : xstrdup("/var/lib/phonebind"),
    .identifier = TERMINAL_ID_RULE_SERIAL,
    .retry_initial_s = 0.5,
    .retry_max_s = 10,
    .max_in_flight = 32,
    .helper_timeout_ms = 5000,
    .registry_timeout_ms = 5000,
    .log_level = log_get_max_level(), /* PHONEBIND_LOG_LEVEL, else info */
  };
  return cliconf_parse(&conf, argc, argv);
}

void daemon_config_clear(struct daemon_config *config)
{
  free(config->registry);
  free(config->registry_ca);
  free(config->registry_pin);
  free(config->state_dir);
  free(config->identity_helper);
  free(config->token_file);
  free(config->account);
  *config = (struct daemon_config){0};
}
