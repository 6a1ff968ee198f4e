/* Settings from an INI file and from flags of the same names: the file is
 * read first, so flags override it wherever they stand. Shared by
 * phonebindd and phonebind-registry. */
#pragma once

#include <getopt.h>
#include <stdbool.h>

struct cliconf {
  const char *program;          /* for messages */
  const struct option *options; /* long options; val is the short letter */
  const char *short_options;    /* getopt string */
  const char *section;          /* INI section that applies ("" entries too) */
  const char *usage;            /* printed by --help */
  const char *version;          /* printed by --version */
  const char *default_config;   /* read when no --config is given and it exists; may be NULL */
  /* Applies one setting; logs and returns -EINVAL when the value is bad. */
  int (*set)(void *settings, const char *key, const char *value);
  void *settings;
  /* NULL: arguments other than options are an error. Else they are
   * allowed (a subcommand and its operands), wherever they stand: getopt
   * moves them, in order, to argv[*args_at] onwards. */
  int *args_at;
};

/* 0 when the program should run, 1 when --help or --version was answered,
 * -1 after an error was printed. The options "config" ('c'), "help" ('h')
 * and "version" ('V') are handled here. */
int cliconf_parse(const struct cliconf *conf, int argc, char **argv);

/* The --config path in argv, else the default if it exists, else NULL. */
const char *cliconf_config_path(const struct cliconf *conf, int argc, char **argv);

/* A boolean setting: yes/no, true/false, 1/0 (any case). 0 or -EINVAL. A
 * flag given alone (an optional_argument option without its =VALUE)
 * reaches conf->set as "yes". */
int cliconf_parse_bool(const char *value, bool *out);
/* The same for the setting named key, logging what is wrong with it. */
int cliconf_set_bool(const char *key, const char *value, bool *out);

/* Reads the INI file alone (for a reload); 0 or -1 after an error was printed. */
int cliconf_load_file(const struct cliconf *conf, const char *path);
