/* Flags and notify.conf; see options.h. */
#include "options.h"

#include "cliconf.h"
#include "log.h"
#include "version.h"

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
  "Usage: phonebind-notify [OPTION]...\n"
  "Shows a desktop notification for each decision of phonebindd about a phone.\n"
  "\n"
  "  -k, --show-known[=BOOL]  also when a phone bound before connects (default no)\n"
  "  -p, --print[=BOOL]       print the notifications' text instead of showing them\n"
  "  -c, --config FILE        settings file (default: the first phonebind/notify.conf\n"
  "                           of $XDG_CONFIG_HOME and $XDG_CONFIG_DIRS)\n"
  "  -h, --help               show this help\n"
  "  -V, --version            show the version\n";

static const struct option options[] = {
  {"show-known", optional_argument, NULL, 'k'}, {"print", optional_argument, NULL, 'p'},
  {"config", required_argument, NULL, 'c'},     {"help", no_argument, NULL, 'h'},
  {"version", no_argument, NULL, 'V'},          {NULL, 0, NULL, 0},
};

static int options_set(void *settings, const char *key, const char *value)
{
  struct notify_options *out = settings;

  if (strcmp(key, "show-known") == 0)
    return cliconf_set_bool(key, value, &out->show_known);
  if (strcmp(key, "print") == 0)
    return cliconf_set_bool(key, value, &out->print);
  log_err("unknown setting \"%s\"", key);
  return -EINVAL;
}

char *notify_options_default_config(void)
{
  char *path = g_build_filename(g_get_user_config_dir(), "phonebind", "notify.conf", NULL);
  const char *const *dirs = g_get_system_config_dirs();

  for (size_t i = 0; access(path, F_OK) != 0; i++) {
    g_free(path);
    if (!dirs[i])
      return NULL;
    path = g_build_filename(dirs[i], "phonebind", "notify.conf", NULL);
  }
  return path;
}

int notify_options_parse(int argc, char **argv, struct notify_options *out)
{
  char *default_config = notify_options_default_config();
  const struct cliconf conf = {
    .program = "phonebind-notify",
    .options = options,
    .short_options = "k::p::c:hV",
    .section = "notify",
    .usage = usage,
    .version = "phonebind-notify " PHONEBIND_VERSION,
    .default_config = default_config,
    .set = options_set,
    .settings = out,
  };
  int r;

  *out = (struct notify_options){0};
  r = cliconf_parse(&conf, argc, argv);
  g_free(default_config);
  return r;
}
