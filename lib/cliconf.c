/* Flags and INI settings; see cliconf.h. */
#include "cliconf.h"

#include "ini.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int ini_entry(const char *section, const char *key, const char *value, void *userdata)
{
  const struct cliconf *conf = userdata;

  if (section[0] != '\0' && strcmp(section, conf->section) != 0)
    return 0; /* another program's section of a shared file */
  if (strcmp(key, "config") == 0)
    return 0;
  return conf->set(conf->settings, key, value);
}

int cliconf_load_file(const struct cliconf *conf, const char *path)
{
  int line = 0, r = ini_parse_file(path, ini_entry, (void *)conf, &line);

  if (r == -EINVAL && line > 0)
    log_err("%s:%d: malformed line or setting", path, line);
  else if (r < 0)
    log_err("cannot read %s: %s", path, strerror(-r));
  return r < 0 ? -1 : 0;
}

/* The file named by --config however getopt accepts it (-cFILE, --conf
 * FILE, --config=FILE...): looking for the exact spellings missed the
 * others, which then parsed without error and skipped the file. A first
 * getopt pass, silent: the second one reports the errors. */
const char *cliconf_config_path(const struct cliconf *conf, int argc, char **argv)
{
  const char *path = NULL;
  int saved_opterr = opterr, opt;

  opterr = 0;
  optind = 0; /* glibc: start afresh, whatever an earlier parse left */
  while ((opt = getopt_long(argc, argv, conf->short_options, conf->options, NULL)) != -1)
    if (opt == 'c')
      path = optarg;
  opterr = saved_opterr;
  if (path)
    return path;
  if (conf->default_config && access(conf->default_config, F_OK) == 0)
    return conf->default_config;
  return NULL;
}

static const char *option_name(const struct cliconf *conf, int val)
{
  for (const struct option *o = conf->options; o->name; o++)
    if (o->val == val)
      return o->name;
  return NULL;
}

int cliconf_parse(const struct cliconf *conf, int argc, char **argv)
{
  const char *config = cliconf_config_path(conf, argc, argv);
  int opt;

  if (config && cliconf_load_file(conf, config) < 0)
    return -1;
  optind = 0;
  while ((opt = getopt_long(argc, argv, conf->short_options, conf->options, NULL)) != -1) {
    const char *key = option_name(conf, opt);
    if (opt == 'h') {
      fputs(conf->usage, stdout);
      return 1;
    }
    if (opt == 'V') {
      puts(conf->version);
      return 1;
    }
    if (opt == '?' || !key) {
      fprintf(stderr, "Try '%s --help'.\n", conf->program);
      return -1;
    }
    if (opt != 'c' && conf->set(conf->settings, key, optarg ? optarg : "yes") < 0)
      return -1;
  }
  if (conf->args_at)
    *conf->args_at = optind;
  else if (optind < argc) {
    log_err("unexpected argument \"%s\"", argv[optind]);
    return -1;
  }
  return 0;
}

int cliconf_parse_bool(const char *value, bool *out)
{
  static const char *const yes[] = {"yes", "true", "1"}, *const no[] = {"no", "false", "0"};

  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
    if (strcasecmp(value, yes[i]) == 0) {
      *out = true;
      return 0;
    }
    if (strcasecmp(value, no[i]) == 0) {
      *out = false;
      return 0;
    }
  }
  return -EINVAL;
}

int cliconf_set_bool(const char *key, const char *value, bool *out)
{
  if (cliconf_parse_bool(value, out) == 0)
    return 0;
  log_err("%s must be yes or no, not \"%s\"", key, value);
  return -EINVAL;
}
