/* The terminal-id key and its check value; see terminal_key.h. */
#include "terminal_key.h"

#include "log.h"
#include "secret_file.h"

#include <errno.h>
#include <string.h>

#define KEY_CHECK_TEXT "phonebind terminal-id key check v1"

void terminal_key_check_value(const uint8_t key[TERMINAL_KEY_LEN], uint8_t out[HASH_SHA256_LEN])
{
  hash_hmac_sha256(key, TERMINAL_KEY_LEN, KEY_CHECK_TEXT, strlen(KEY_CHECK_TEXT), out);
}

bool terminal_key_mode_is_safe(mode_t mode)
{
  return (mode & 0027) == 0;
}

/* No key file: make one, but only for a database that no key has touched. */
static int create_key(const char *path, bool database_has_key, uint8_t key[TERMINAL_KEY_LEN])
{
  int r;

  if (database_has_key) {
    log_err(
      "key file %s is missing, but the database was made with a terminal-id key: restore "
      "that key file (a new key would unbind every phone)",
      path);
    return -ENOKEY;
  }
  r = secret_file_create(path, key, TERMINAL_KEY_LEN);
  if (r < 0) {
    log_err("cannot create the key file %s: %s", path, strerror(-r));
    return r;
  }
  log_info("created the terminal-id key %s", path);
  return 0;
}

static int load_key(const char *path, uint8_t key[TERMINAL_KEY_LEN])
{
  mode_t mode = 0;
  int r = secret_file_load(path, key, TERMINAL_KEY_LEN, &mode);

  if (r == -EBADMSG)
    log_err("key file %s is not a terminal-id key (it must hold exactly %d bytes)", path,
            TERMINAL_KEY_LEN);
  else if (r < 0 && r != -ENOENT)
    log_err("cannot read the key file %s: %s", path, strerror(-r));
  if (r == 0 && !terminal_key_mode_is_safe(mode)) {
    log_err(
      "key file %s has mode %04o: others may read or write it, or its group may write "
      "it; run chmod 0600 %s (or 0640 for a group that must read it)",
      path, (unsigned)(mode & 07777), path);
    r = -EPERM;
  }
  return r;
}

/* The check value of the key in hand against the database's: equal, or
 * stored now for a database that had none (first start, or an upgrade). */
static int match_check_value(struct backend *backend, const char *path, bool has_check,
                             const uint8_t stored[HASH_SHA256_LEN],
                             const uint8_t key[TERMINAL_KEY_LEN])
{
  uint8_t check[HASH_SHA256_LEN];
  int r = 0;

  terminal_key_check_value(key, check);
  if (has_check && !hash_equal_ct(check, stored, sizeof check))
    r = -EKEYREJECTED;
  else if (!has_check)
    r = backend->ops->store_key_check(backend, check);
  if (r == -EKEYREJECTED)
    log_err(
      "key file %s does not match the database's key check value: it is not the key "
      "this database was made with",
      path);
  else if (r < 0)
    log_err("cannot store the key check value in the database: %s", strerror(-r));
  return r;
}

int terminal_key_load(struct backend *backend, const char *path, uint8_t key[TERMINAL_KEY_LEN])
{
  uint8_t stored[HASH_SHA256_LEN], check[HASH_SHA256_LEN];
  bool keyed = false;
  int r = load_key(path, key), has_check = 0;

  if (r == -ENOENT)
    log_err("key file %s is missing", path);
  if (r == 0)
    has_check = backend->ops->read_key_check(backend, stored, &keyed);
  if (r == 0 && has_check < 0) {
    log_err("cannot read the key check value from the database: %s", strerror(-has_check));
    r = has_check;
  }
  if (r == 0 && has_check == 1)
    terminal_key_check_value(key, check);
  if (r == 0 && has_check == 1 && !hash_equal_ct(check, stored, sizeof check)) {
    log_err("key file %s does not match the database's key check value", path);
    r = -EKEYREJECTED;
  }
  if (r < 0)
    explicit_bzero(key, TERMINAL_KEY_LEN);
  return r;
}

/* The database cannot be reached: a key file in hand is used and checked
 * once it can be; without one nobody can tell whether a new key may be
 * made. */
static int open_unverified(const char *path, uint8_t key[TERMINAL_KEY_LEN])
{
  int r = load_key(path, key);

  if (r == -ENOENT)
    log_err(
      "key file %s is missing and the database cannot be reached to tell whether a new "
      "key may be made",
      path);
  if (r < 0)
    return r;
  log_warn("key file %s is checked against the database once it can be reached", path);
  return TERMINAL_KEY_UNVERIFIED;
}

int terminal_key_open(struct backend *backend, const char *path, uint8_t key[TERMINAL_KEY_LEN])
{
  uint8_t stored[HASH_SHA256_LEN];
  bool keyed = false;
  int r, has_check;

  has_check = backend->ops->read_key_check(backend, stored, &keyed);
  if (has_check == BACKEND_UNAVAILABLE) {
    r = open_unverified(path, key);
    if (r < 0)
      explicit_bzero(key, TERMINAL_KEY_LEN);
    return r;
  }
  if (has_check < 0) {
    log_err("cannot read the key check value from the database: %s", strerror(-has_check));
    return has_check;
  }
  r = load_key(path, key);
  if (r == -ENOENT)
    r = create_key(path, has_check || keyed, key);
  if (r == 0)
    r = match_check_value(backend, path, has_check, stored, key);
  if (r < 0)
    explicit_bzero(key, TERMINAL_KEY_LEN);
  return r;
}
