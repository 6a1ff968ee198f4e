/* phonebind-registry admin COMMAND …: the support tool's command line.
 * On SQLite the command goes to the running registry over its local
 * socket (admin_socket.h); with no registry running, or on PostgreSQL
 * (whose instances hear of changes through the database), it opens the
 * database itself. JSON on stdout, a message on stderr, an exit status
 * from admin_exec.h. */
#include "admin.h"

#include "admin_exec.h"
#include "admin_socket.h"
#include "backend.h"
#include "config.h"
#include "hash.h"
#include "log.h"
#include "secret_file.h"
#include "terminal_key.h"
#include "xalloc.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

static int print_answer(int status, json_t *answer)
{
  const char *message = json_string_value(json_object_get(answer, "message"));

  json_dumpf(answer, stdout, JSON_COMPACT);
  putchar('\n');
  fflush(stdout);
  if (status != ADMIN_OK && message)
    fprintf(stderr, "phonebind-registry admin: %s\n", message);
  json_decref(answer);
  return status;
}

static int print_error(int status, const char *error, const char *message)
{
  return print_answer(status, json_pack("{s:s, s:s}", "error", error, "message", message));
}

/* Who ran it: the uid's name, and who became root through sudo. */
static void who_am_i(char *out, size_t size)
{
  const char *sudo = getenv("SUDO_USER");
  struct passwd *pw = getpwuid(getuid());

  snprintf(out, size, "uid %u (%s)%s%s", (unsigned)getuid(), pw ? pw->pw_name : "?",
           sudo ? ", sudo by " : "", sudo ? sudo : "");
}

/* admin new-key FILE: a key for every instance of a deployment. */
static int new_key(const char *path)
{
  uint8_t key[TERMINAL_KEY_LEN];
  int r = secret_file_create(path, key, sizeof key);

  explicit_bzero(key, sizeof key);
  if (r == -EEXIST)
    return print_error(ADMIN_EXISTS, "file-exists", "the key file exists; it is never replaced");
  if (r < 0)
    return print_error(ADMIN_FAILED, "cannot-create", strerror(-r));
  return print_answer(ADMIN_OK, json_pack("{s:s}", "key_file", path));
}

/* The backup's path as the registry (another process, another working
 * directory) must read it. */
static char *absolute(const char *path)
{
  _cleanup_free_ char *copy = xstrdup(path), *copy2 = xstrdup(path);
  char dir[PATH_MAX];

  if (!realpath(dirname(copy), dir))
    return NULL;
  return xasprintf("%s/%s", dir, basename(copy2));
}

/* The database opened by the command itself: it must exist (a mistyped
 * path must not leave an empty database and a key behind). */
static int open_direct(const struct registry_config *config, bool needs_key,
                       struct backend **out_backend, struct hash_hmac_key **out_mac)
{
  const char *path = backend_uri_sqlite_path(config->database);
  _cleanup_free_ char *key_path = registry_config_key_file(config);
  uint8_t key[TERMINAL_KEY_LEN];
  struct stat st;
  int r;

  if (path && stat(path, &st) < 0) {
    log_err("no database at %s: %s", path, strerror(errno));
    return -errno;
  }
  r = backend_open_uri(config->database, out_backend);
  if (r < 0) {
    log_err("cannot open database %s: %s", config->database, strerror(-r));
    return r;
  }
  backend_set_binding_ttl(*out_backend, config->binding_ttl_s * 1000);
  if (!needs_key)
    return 0;
  r = terminal_key_load(*out_backend, key_path, key);
  if (r == 0)
    *out_mac = hash_hmac_key_new(key, sizeof key);
  explicit_bzero(key, sizeof key);
  return r;
}

static int run_direct(const struct registry_config *config, char **words, size_t count,
                      const char *who)
{
  struct backend *backend = NULL;
  struct hash_hmac_key *mac = NULL;
  json_t *answer = NULL;
  int status, r = open_direct(config, admin_needs_key(words[0]), &backend, &mac);

  if (r < 0) {
    backend_close(backend);
    return print_error(ADMIN_FAILED, "cannot-open", "cannot open the database or its key");
  }
  status = admin_exec(&(struct admin_context){.backend = backend, .terminal_mac = mac}, who, words,
                      count, &answer);
  hash_hmac_key_free(mac);
  backend_close(backend);
  return print_answer(status, answer);
}

/* Through the running registry's socket when there is one: 1 and
 * *out_status when it answered, 0 when none runs, or -errno. */
static int run_by_socket(const struct registry_config *config, char **words, size_t count,
                         const char *login, int *out_status)
{
  _cleanup_free_ char *path = admin_socket_path(backend_uri_sqlite_path(config->database));
  json_t *answer = NULL;
  int r = admin_socket_call(path, login, words, count, out_status, &answer);

  if (r == -ENOENT || r == -ECONNREFUSED)
    return 0;
  if (r < 0) {
    log_err("the registry's admin socket %s: %s", path, strerror(-r));
    return r;
  }
  print_answer(*out_status, answer);
  return 1;
}

int admin_main(const struct registry_config *config, char **words, size_t count)
{
  _cleanup_free_ char *backup_path = NULL;
  char who[256];
  int status = ADMIN_FAILED, r;

  if (count == 0)
    return print_error(ADMIN_USAGE, "no-command", "an admin command is needed (see --help)");
  if (strcmp(words[0], "new-key") == 0)
    return count == 2 ? new_key(words[1])
                      : print_error(ADMIN_USAGE, "operands", "new-key takes one FILE");
  if (!admin_is_command(words[0]))
    return print_error(ADMIN_USAGE, "no-such-command", "no such admin command (see --help)");
  if (strcmp(words[0], "backup") == 0 && count == 2) {
    backup_path = absolute(words[1]);
    if (!backup_path)
      return print_error(ADMIN_FAILED, "bad-path", "the backup file's directory does not exist");
    words[1] = backup_path;
  }
  who_am_i(who, sizeof who);
  /* the journal keeps who asked, whichever process carries it out */
  syslog(LOG_AUTHPRIV | LOG_NOTICE, "admin: %s asked for %s", who, words[0]);
  r = backend_uri_sqlite_path(config->database)
        ? run_by_socket(config, words, count, getenv("SUDO_USER"), &status)
        : 0;
  if (r < 0)
    return print_error(ADMIN_FAILED, "socket", "the running registry did not answer");
  if (r == 1)
    return status;
  return run_direct(config, words, count, who);
}
