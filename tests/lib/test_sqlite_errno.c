/* The one SQLite → errno table both programs use: success codes, the
 * failures a person can act on, extended codes by their primary one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <sqlite3.h>

#include "sqlite_errno.h"

static void test_table(void **state)
{
  static const struct {
    int rc, expect;
  } rows[] = {
    {SQLITE_OK, 0},
    {SQLITE_ROW, 0},
    {SQLITE_DONE, 0},
    {SQLITE_FULL, -ENOSPC},
    {SQLITE_READONLY, -EROFS},
    {SQLITE_READONLY_DBMOVED, -EROFS},
    {SQLITE_CORRUPT, -EBADMSG},
    {SQLITE_NOTADB, -EBADMSG},
    {SQLITE_CANTOPEN, -ENOENT},
    {SQLITE_PERM, -EACCES},
    {SQLITE_BUSY, -EBUSY},
    {SQLITE_BUSY_SNAPSHOT, -EBUSY},
    {SQLITE_LOCKED, -EBUSY},
    {SQLITE_NOMEM, -ENOMEM},
    {SQLITE_CONSTRAINT_UNIQUE, -EEXIST},
    {SQLITE_IOERR_FSYNC, -EIO},
    {SQLITE_ERROR, -EIO},
  };
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
    assert_int_equal(sqlite_errno(rows[i].rc), rows[i].expect);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_table)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
