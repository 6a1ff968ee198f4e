/* Flags and registry.conf; see config.h. */
#include "config.h"

#include "backend.h"
#include "ini.h"
#include "log.h"
#include "version.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static const char usage[] =
  "Usage: phonebind-registry [OPTION]...\n"
  "Remembers which client each phone is bound to and hands out shadow accounts.\n\n"
  "  -l, --listen ADDR:PORT   address to listen on (default 127.0.0.1:8470)\n"
  "  -d, --database URI       sqlite:PATH or a path (default registry.db)\n"
  "  -s, --state-dir DIR      where the registry keeps its key\n"
  "                           (default $STATE_DIRECTORY, else the database's directory)\n"
  "  -c, --config FILE        read settings from FILE (INI, same keys as these flags)\n"
  "  -t, --threads N          HTTP threads (default 1)\n"
  "      --log-level LEVEL    error, warning, info or debug (default info)\n"
  "  -h, --help               show this help\n"
  "  -V, --version            show the version\n";

static const struct option options[] = {
  {"listen", required_argument, NULL, 'l'},   {"database", required_argument, NULL, 'd'},
  {"state-dir", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
  {"threads", required_argument, NULL, 't'},  {"log-level", required_argument, NULL, 'L'},
  {"help", no_argument, NULL, 'h'},           {"version", no_argument, NULL, 'V'},
  {NULL, 0, NULL, 0},
};

static void replace(char **slot, const char *value)
{
  free(*slot);
  *slot = xstrdup(value);
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
  } else if (strcmp(key, "threads") == 0) {
    long n = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || n < 1 || n > 64) {
      log_err("threads must be a number from 1 to 64, not \"%s\"", value);
      return -EINVAL;
    }
    config->threads = (int)n;
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

static int ini_entry(const char *section, const char *key, const char *value, void *userdata)
{
  if (section[0] != '\0' && strcmp(section, "registry") != 0)
    return 0; /* sections of other programs sharing a file */
  return config_set(userdata, key, value);
}

static int load_file(struct registry_config *config, const char *path)
{
  int line = 0, r = ini_parse_file(path, ini_entry, config, &line);

  if (r == -EINVAL && line > 0)
    log_err("%s:%d: malformed line or setting", path, line);
  else if (r < 0)
    log_err("cannot read %s: %s", path, strerror(-r));
  return r;
}

static const char *flag_key(int opt)
{
  for (const struct option *o = options; o->name; o++)
    if (o->val == opt)
      return o->name;
  return NULL;
}

int registry_config_parse(int argc, char **argv, struct registry_config *config)
{
  int opt;

  *config = (struct registry_config){.listen = xstrdup("127.0.0.1:8470"),
                                     .database = xstrdup("registry.db"),
                                     .threads = 1,
                                     .log_level = LOG_INFO};
  /* The file first, so that flags override it wherever they stand. */
  for (int i = 1; i < argc - 1; i++)
    if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0)
      if (load_file(config, argv[i + 1]) < 0)
        return -1;
  while ((opt = getopt_long(argc, argv, "l:d:s:c:t:hV", options, NULL)) != -1) {
    if (opt == 'h') {
      fputs(usage, stdout);
      return 1;
    }
    if (opt == 'V') {
      printf("phonebind-registry %s\n", PHONEBIND_VERSION);
      return 1;
    }
    if (opt == '?') {
      fputs("Try 'phonebind-registry --help'.\n", stderr);
      return -1;
    }
    if (opt != 'c' && config_set(config, flag_key(opt), optarg) < 0)
      return -1;
  }
  if (optind < argc) {
    log_err("unexpected argument \"%s\"", argv[optind]);
    return -1;
  }
  return 0;
}

void registry_config_clear(struct registry_config *config)
{
  free(config->listen);
  free(config->database);
  free(config->state_dir);
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
