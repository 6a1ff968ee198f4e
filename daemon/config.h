/* phonebindd's settings: /etc/phonebind/phonebindd.conf, then flags of the
 * same names. */
#pragma once

#include <stdbool.h>

#include "terminal_id.h"

struct daemon_config {
  char *registry;               /* base URL */
  char *registry_ca;            /* a CA file to verify it by, instead of the system's */
  char *registry_pin;           /* sha256//BASE64 of its public key, or NULL */
  bool allow_insecure_registry; /* http:// off loopback */
  bool hide_serials;            /* Serial only to privileged callers */
  char *state_dir;
  char *identity_helper; /* shell command or NULL */
  char *token_file;      /* the account's token, a file of its own */
  char *account;         /* the account the token belongs to */
  enum terminal_id_rule identifier;
  double retry_initial_s, retry_max_s;
  unsigned max_in_flight;
  long helper_timeout_ms, registry_timeout_ms;
  int log_level;
};

/* 0 to run, 1 after --help/--version, -1 after an error was printed. */
int daemon_config_parse(int argc, char **argv, struct daemon_config *config);
void daemon_config_clear(struct daemon_config *config);
