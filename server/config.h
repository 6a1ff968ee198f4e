/* phonebind-registry's settings: registry.conf (INI) first, then flags,
 * which use the same key names. */
#pragma once

#include <stdint.h>

struct registry_config {
  char *listen;    /* ADDR:PORT */
  char *database;  /* URI */
  char *state_dir; /* NULL: $STATE_DIRECTORY, else the database's directory */
  char *key_file;  /* NULL: <state dir>/terminal-id.key */
  char *tls_cert;  /* NULL: plain HTTP */
  char *tls_key;
  int threads;
  unsigned rate_accounts;   /* shadow accounts per minute per client address; 0: no limit */
  unsigned rate_requests;   /* terminal calls per minute per account; 0: no limit */
  unsigned max_connections; /* open at once, over all threads */
  int log_level;
  uint64_t binding_ttl_s; /* a binding not renewed for this long has lapsed; 0: never */
};

/* Fills config from argv (and the --config file it names). Returns 0, 1
 * when --help or --version was answered, or -1 after printing an error. */
int registry_config_parse(int argc, char **argv, struct registry_config *config);
/* The same, allowing a subcommand: its words start at argv[*args_at]
 * (getopt moves them after the options, wherever they stood). */
int registry_config_parse_args(int argc, char **argv, struct registry_config *config, int *args_at);
void registry_config_clear(struct registry_config *config);

/* "90d", "12h", "30m", "45s", plain seconds or "0": 0, or -EINVAL /
 * -ERANGE. */
int registry_parse_duration(const char *text, uint64_t *out_seconds);

/* The state directory that applies: owned by the caller. */
char *registry_config_state_dir(const struct registry_config *config);
/* The key file that applies: owned by the caller. */
char *registry_config_key_file(const struct registry_config *config);
