/* The terminal-id key against the database's check value. Faults tried: a
 * key file missing for a database that has a check value, or bindings and
 * no check value (a new key would unbind every phone); a key that is not
 * the database's; key files of unsafe modes (a table); and the upgrade of a
 * database without a check value, which adopts the key it finds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "backend_sync.h"
#include "backend_fixture.h"
#include "secret_file.h"
#include "terminal_key.h"

static void test_mode_table(void **state)
{
  static const struct {
    mode_t mode;
    bool safe;
  } cases[] = {
    {0600, true},  {0400, true},  {0640, true},  {0440, true},    {0700, true},
    {0644, false}, {0604, false}, {0602, false}, {0601, false},   {0620, false},
    {0660, false}, {0666, false}, {0610, true},  {0100600, true}, {0100644, false},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    assert_int_equal(terminal_key_mode_is_safe(cases[i].mode), cases[i].safe);
}

static void bind_one(struct backend *be)
{
  uint8_t token[HASH_SHA256_LEN], terminal[HASH_SHA256_LEN];
  char account[ACCOUNT_ID_MAX];
  enum claim_result claim;

  hash_sha256("token", 5, token);
  hash_sha256("terminal", 8, terminal);
  assert_int_equal(backend_sync_create_account(be, NULL, token, 1, account), 0);
  assert_int_equal(backend_sync_claim(be, NULL, terminal, account, 0, 1, &claim, NULL), 0);
}

static void test_fresh_database_gets_a_key(void **state)
{
  struct fixture *f = *state;
  uint8_t key[TERMINAL_KEY_LEN], again[TERMINAL_KEY_LEN], check[HASH_SHA256_LEN];
  uint8_t stored[HASH_SHA256_LEN];
  bool keyed;

  assert_int_equal(terminal_key_open(f->be, f->key, key), 0);
  assert_int_equal(access(f->key, F_OK), 0);
  assert_int_equal(f->be->ops->read_key_check(f->be, stored, &keyed), 1);
  terminal_key_check_value(key, check);
  assert_memory_equal(stored, check, sizeof check);
  assert_int_equal(terminal_key_open(f->be, f->key, again), 0);
  assert_memory_equal(key, again, sizeof key);
}

static void test_missing_key_refused(void **state)
{
  struct fixture *f = *state;
  uint8_t key[TERMINAL_KEY_LEN];

  assert_int_equal(terminal_key_open(f->be, f->key, key), 0);
  assert_int_equal(unlink(f->key), 0);
  assert_int_equal(terminal_key_open(f->be, f->key, key), -ENOKEY);
  assert_int_equal(access(f->key, F_OK), -1);
}

/* A version 1 database has bindings but no check value. */
static void test_bindings_without_check_value(void **state)
{
  struct fixture *f = *state;
  uint8_t key[TERMINAL_KEY_LEN], loaded[TERMINAL_KEY_LEN];
  bool keyed;

  bind_one(f->be);
  assert_int_equal(terminal_key_open(f->be, f->key, key), -ENOKEY);
  assert_int_equal(access(f->key, F_OK), -1);
  /* the key it was made with, restored: adopted, and its check stored */
  assert_int_equal(secret_file_create(f->key, key, sizeof key), 0);
  assert_int_equal(terminal_key_open(f->be, f->key, loaded), 0);
  assert_memory_equal(key, loaded, sizeof key);
  assert_int_equal(f->be->ops->read_key_check(f->be, key, &keyed), 1);
}

static void test_other_key_refused(void **state)
{
  struct fixture *f = *state;
  uint8_t key[TERMINAL_KEY_LEN];

  assert_int_equal(terminal_key_open(f->be, f->key, key), 0);
  assert_int_equal(unlink(f->key), 0);
  assert_int_equal(secret_file_create(f->key, key, sizeof key), 0);
  assert_int_equal(terminal_key_open(f->be, f->key, key), -EKEYREJECTED);
}

static void test_unsafe_mode_refused(void **state)
{
  struct fixture *f = *state;
  uint8_t key[TERMINAL_KEY_LEN];

  assert_int_equal(terminal_key_open(f->be, f->key, key), 0);
  assert_int_equal(chmod(f->key, 0644), 0);
  assert_int_equal(terminal_key_open(f->be, f->key, key), -EPERM);
  assert_int_equal(chmod(f->key, 0640), 0);
  assert_int_equal(terminal_key_open(f->be, f->key, key), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mode_table),
    cmocka_unit_test_setup_teardown(test_fresh_database_gets_a_key, setup, teardown),
    cmocka_unit_test_setup_teardown(test_missing_key_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bindings_without_check_value, setup, teardown),
    cmocka_unit_test_setup_teardown(test_other_key_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_unsafe_mode_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
