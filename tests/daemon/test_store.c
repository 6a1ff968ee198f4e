/* The local store on temporary files: round trip, first_seen and
 * bound_since kept on update, forget, persistence, keyed hashes only (the
 * raw identifier never reaches the file), a junk file refused, a newer
 * schema refused, a read-only store that still answers lookups, pending
 * releases (sealed) and counters that survive a reopen, and a store
 * written by version 1 migrated with its bindings intact. */
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
  return (struct store_entry){.vendor = (char *)"18d1",
                              .model = (char *)"Pixel 7",
                              .serial = (char *)"0123456789ABCDEF",
                              .first_seen = t,
                              .last_seen = t,
                              .bound_since = t};
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

static void collect_release(const char *terminal_id, const char *account, uint64_t since,
                            void *userdata)
{
  char *seen = userdata;
  size_t len = strlen(seen);

  snprintf(seen + len, 256 - len, "%s %s %llu;", terminal_id, account, (unsigned long long)since);
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
    if (geteuid() == 0 &&
        (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
      _exit(9);
    _exit(read_only_checks(f->path));
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_releases_and_counters_persist(void **state)
{
  struct fixture *f = *state;
  struct store *store;
  char seen[256] = "";
  uint64_t value = 1;
  char wal[128];

  assert_int_equal(store_open(f->path, key, sizeof key, &store), 0);
  assert_int_equal(store_get_counter(store, "seq", &value), 0);
  assert_int_equal(value, 0);
  assert_int_equal(store_set_counter(store, "seq", 1764000000000000ull), 0);
  assert_int_equal(store_add_release(store, ID, "sa-1", 10), 0);
  assert_int_equal(store_add_release(store, "usb:18d1:R58M", "sa-1", 11), 0);
  assert_int_equal(store_add_release(store, ID, "sa-2", 12), 0); /* replaces */
  assert_int_equal(store_drop_release(store, "usb:18d1:R58M"), 0);
  snprintf(wal, sizeof wal, "%s-wal", f->path);
  assert_false(file_contains(wal, "490154203237518"));
  store_close(store);
  assert_false(file_contains(f->path, "490154203237518"));

  assert_int_equal(store_open(f->path, key, sizeof key, &store), 0);
  assert_int_equal(store_get_counter(store, "seq", &value), 0);
  assert_int_equal(value, 1764000000000000ull);
  assert_int_equal(store_foreach_release(store, collect_release, seen), 0);
  assert_string_equal(seen, "imei:490154203237518 sa-2 12;");
  store_close(store);
}

/* Fault: the store key was replaced (a restore without it): the sealed
 * identifiers cannot be read, so they are skipped, not sent as junk. */
static void test_release_under_another_key_skipped(void **state)
{
  struct fixture *f = *state;
  struct store *store;
  const uint8_t other[32] = {9};
  char seen[256] = "";

  assert_int_equal(store_open(f->path, key, sizeof key, &store), 0);
  assert_int_equal(store_add_release(store, ID, "sa-1", 10), 0);
  store_close(store);
  assert_int_equal(store_open(f->path, other, sizeof other, &store), 0);
  assert_int_equal(store_foreach_release(store, collect_release, seen), 0);
  assert_string_equal(seen, "");
  store_close(store);
}

static void test_forget_all(void **state)
{
  struct fixture *f = *state;
  struct store *store;
  struct store_entry e = entry(1), got;

  assert_int_equal(store_open(f->path, key, sizeof key, &store), 0);
  assert_int_equal(store_record_binding(store, ID, &e), 0);
  assert_int_equal(store_record_binding(store, "usb:18d1:R58M", &e), 0);
  assert_int_equal(store_forget_all_terminals(store), 0);
  assert_int_equal(store_lookup_terminal(store, ID, &got), 0);
  assert_int_equal(store_lookup_terminal(store, "usb:18d1:R58M", &got), 0);
  store_close(store);
}

/* An upgrade: the store a version 1 daemon wrote (fixtures/store-v1.sql)
 * opens, migrates, and still knows its phone. */
static void test_version_1_store_migrates(void **state)
{
  struct fixture *f = *state;
  struct store *store;
  struct store_entry got;
  char cmd[512];

  snprintf(cmd, sizeof cmd, "sqlite3 %s < %s/tests/daemon/fixtures/store-v1.sql >/dev/null",
           f->path, SOURCE_DIR);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(store_open(f->path, key, sizeof key, &store), 0);
  assert_int_equal(store_lookup_terminal(store, ID, &got), 1);
  assert_string_equal(got.model, "Pixel 7");
  assert_int_equal(got.bound_since, 150);
  store_entry_clear(&got);
  assert_int_equal(store_add_release(store, ID, "sa-1", 10), 0);
  store_close(store);
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
    cmocka_unit_test_setup_teardown(test_releases_and_counters_persist, setup, teardown),
    cmocka_unit_test_setup_teardown(test_release_under_another_key_skipped, setup, teardown),
    cmocka_unit_test_setup_teardown(test_forget_all, setup, teardown),
    cmocka_unit_test_setup_teardown(test_version_1_store_migrates, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
