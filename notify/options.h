/* phonebind-notify's settings: the first notify.conf found in the XDG
 * configuration directories (the user's, then the system's), then flags
 * of the same names. */
#pragma once

#include <stdbool.h>

struct notify_options {
  bool show_known; /* a notification for a phone that connects as before, too */
  bool print;      /* lines on standard output instead of desktop notifications */
};

/* 0 to run, 1 after --help/--version, -1 after an error was printed. */
int notify_options_parse(int argc, char **argv, struct notify_options *out);

/* The configuration file read when no --config is given: the first
 * phonebind/notify.conf that exists under $XDG_CONFIG_HOME (~/.config),
 * then $XDG_CONFIG_DIRS (/etc/xdg); NULL when there is none. g_free. */
char *notify_options_default_config(void);
