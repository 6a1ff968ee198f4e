/* Key files are created once with mode 0600 and read back unchanged; a
 * key file of the wrong size is refused rather than silently replaced;
 * creating a key never replaces one that is there (a key another process
 * made a moment before would be lost); loading reports the file's mode. */
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

#include "secret_file.h"

static void test_create_and_reload(void **state)
{
  char dir[] = "/tmp/phonebind-secret-XXXXXX", path[64];
  uint8_t a[32], b[32];
  struct stat st;
  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/key", dir);
  assert_int_equal(secret_file_load_or_create(path, a, sizeof a), 0);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(secret_file_load_or_create(path, b, sizeof b), 0);
  assert_memory_equal(a, b, sizeof a);
  assert_int_equal(secret_file_load_or_create(path, b, 16), -EBADMSG);
  unlink(path);
  rmdir(dir);
}

static void test_create_never_replaces(void **state)
{
  char dir[] = "/tmp/phonebind-secret-XXXXXX", path[64];
  uint8_t a[32], b[32];
  mode_t mode = 0;
  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/key", dir);
  assert_int_equal(secret_file_load(path, a, sizeof a, &mode), -ENOENT);
  assert_int_equal(secret_file_create(path, a, sizeof a), 0);
  assert_int_equal(secret_file_create(path, b, sizeof b), -EEXIST);
  assert_int_equal(secret_file_load(path, b, sizeof b, &mode), 0);
  assert_memory_equal(a, b, sizeof a);
  assert_int_equal(mode & 07777, 0600);
  assert_int_equal(chmod(path, 0640), 0);
  assert_int_equal(secret_file_load(path, b, sizeof b, &mode), 0);
  assert_int_equal(mode & 07777, 0640);
  assert_int_equal(secret_file_load(path, b, 16, NULL), -EBADMSG);
  unlink(path);
  /* no temporary file is left behind by the refused create */
  assert_int_equal(rmdir(dir), 0);
}

static void test_text(void **state)
{
  char dir[] = "/tmp/phonebind-secret-XXXXXX", path[64];
  char *text = NULL;
  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/token", dir);
  assert_int_equal(secret_file_write_text(path, "  s3cret\n"), 0);
  assert_int_equal(secret_file_read_text(path, &text), 0);
  assert_string_equal(text, "s3cret");
  free(text);
  assert_int_equal(secret_file_write_text(path, " \n"), 0);
  assert_int_equal(secret_file_read_text(path, &text), -EBADMSG);
  unlink(path);
  rmdir(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_create_and_reload),
                                     cmocka_unit_test(test_create_never_replaces),
                                     cmocka_unit_test(test_text)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
