/* The local store on temporary files: round trip, first_seen and
 * bound_since kept on update, forget, persistence, keyed hashes only (the
 * raw identifier never reaches the file), a junk file refused, a newer
 * schema refused, and a read-only store that still answers lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"

static const uint8_t key[32] = {1, 2, 3};
static const char *const ID = "imei:490154203237518";

struct fixture {
  char dir[64], path[96];
};

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof *f);
  strcpy(f->dir, "/tmp/phonebind-store-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  char cmd[256];
  snprintf(cmd, sizeof cmd, "chmod -R u+w %s; rm -rf %s", f->dir, f->dir);
  assert_int_equal(system(cmd), 0);
  free(f);
  return 0;
}

static struct store_entry entry(uint64_t t)
{
  return (struct store_entry){.vendor = (char *)"18d1", .model = (char *)"Pixel 7",
                              .serial = (char *)"0123456789ABCDEF",
                              .first_seen = t, .last_seen = t, .bound_since = t};
}

static void test_round_trip_and_update(void **state)
{
  struct fixture *f = *state;
  struct store *store;
  struct store_entry e1 = entry(100), e2 = entry(200), got;

  assert_int_equal(store_open(f->path, key, sizeof key, &store), 0);
  assert_int_equal(store_lookup_terminal(store, ID, &got), 0);
  assert_int_equal(store_touch_terminal(store, ID, 5), -ENOENT);
  assert_int_equal(store_record_binding(store, ID, &e1), 0);
  e2.model = (char *)"Pixel 8";
  assert_int_equal(store_record_binding(store, ID, &e2), 0);
  assert_int_equal(store_lookup_terminal(store, ID, &got), 1);
  assert_string_equal(got.model, "Pixel 8");
  assert_int_equal(got.first_seen, 100);
  assert_int_equal(got.bound_since, 100);
  assert_int_equal(got.last_seen, 200);
  store_entry_clear(&got);
  assert_int_equal(store_touch_terminal(store, ID, 300), 0);
  store_close(store);

  assert_int_equal(store_open(f->path, key, sizeof key, &store), 0);
  assert_int_equal(store_lookup_terminal(store, ID, &got), 1);
  assert_int_equal(got.last_seen, 300);
  store_entry_clear(&got);
  assert_int_equal(store_forget_terminal(store, ID), 0);
  assert_int_equal(store_forget_terminal(store, ID), 0);
  assert_int_equal(store_lookup_terminal(store, ID, &got), 0);
  store_close(store);
}

static bool file_contains(const char *path, const char *needle)
{
  FILE *file = fopen(path, "rb");
  static char data[1 << 20];
  size_t len;

  if (!file)
    return false;
  len = fread(data, 1, sizeof data - 1, file);
  fclose(file);
  return memmem(data, len, needle, strlen(needle)) != NULL;
}

static void test_no_raw_identifier(void **state)
{
  struct fixture *f = *state;
  struct store *store;
  struct store_entry e = entry(1);
  char wal[128];

  assert_int_equal(store_open(f->path, key, sizeof key, &store), 0);
  assert_int_equal(store_record_binding(store, ID, &e), 0);
  snprintf(wal, sizeof wal, "%s-wal", f->path);
  assert_false(file_contains(wal, "490154203237518"));
  store_close(store);
  assert_false(file_contains(f->path, "490154203237518"));
  assert_true(file_contains(f->path, "Pixel 7")); /* the file is readable at all */
}

static void test_another_key_finds_nothing(void **state)
{
  struct fixture *f = *state;
  struct store *store;
  struct store_entry e = entry(1), got;
  const uint8_t other[32] = {9};

  assert_int_equal(store_open(f->path, key, sizeof key, &store), 0);
  assert_int_equal(store_record_binding(store, ID, &e), 0);
  store_close(store);
  assert_int_equal(store_open(f->path, other, sizeof other, &store), 0);
  assert_int_equal(store_lookup_terminal(store, ID, &got), 0);
  store_close(store);
}

static void test_junk_refused(void **state)
{
  struct fixture *f = *state;
  struct store *store = NULL;
  FILE *junk = fopen(f->path, "w");

  for (int i = 0; i < 300; i++)
    fputs("this is not an SQLite database ", junk);
  fclose(junk);
  assert_int_equal(store_open(f->path, key, sizeof key, &store), -EBADMSG);
  assert_null(store);
}

static void test_newer_schema_refused(void **state)
{
  struct fixture *f = *state;
  struct store *store = NULL;
  sqlite3 *db;

  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(store_open(f->path, key, sizeof key, &store), -EBADMSG);
}

/* Lookups and a refused write on a store the process may only read. Run
 * in a child as nobody when the test runs as root, who could write anyway. */
static int read_only_checks(const char *path)
{
  struct store *store;
  struct store_entry e = entry(1), got;
  int r = store_open(path, key, sizeof key, &store);

  if (r < 0)
    return 1;
  r = store_lookup_terminal(store, ID, &got);
  if (r == 1)
    store_entry_clear(&got);
  if (r != 1)
    return 2;
  r = store_record_binding(store, "usb:18d1:NEW", &e);
  store_close(store);
  return r < 0 ? 0 : 3;
}

static void test_read_only_store_answers_lookups(void **state)
{
  struct fixture *f = *state;
  struct store *store;
  struct store_entry e = entry(1);
  pid_t pid;
  int status;

  assert_int_equal(store_open(f->path, key, sizeof key, &store), 0);
  assert_int_equal(store_record_binding(store, ID, &e), 0);
  store_close(store);
  assert_int_equal(chmod(f->path, 0444), 0);
  assert_int_equal(chmod(f->dir, 0555), 0);
  pid = fork();
  if (pid == 0) {
    if (geteuid() == 0 && (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
      _exit(9);
    _exit(read_only_checks(f->path));
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_round_trip_and_update, setup, teardown),
    cmocka_unit_test_setup_teardown(test_no_raw_identifier, setup, teardown),
    cmocka_unit_test_setup_teardown(test_another_key_finds_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown(test_junk_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_read_only_store_answers_lookups, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
