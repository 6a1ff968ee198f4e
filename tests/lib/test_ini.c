/* The INI reader: sections, comments, quoting, and malformed lines reported
 * with their line number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ini.h"

struct seen {
  char text[512];
};

static int collect(const char *section, const char *key, const char *value, void *userdata)
{
  struct seen *seen = userdata;
  size_t len = strlen(seen->text);
  snprintf(seen->text + len, sizeof seen->text - len, "[%s]%s=%s;", section, key, value);
  return 0;
}

static char *write_temp(const char *text)
{
  char *path = strdup("/tmp/phonebind-ini-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  return path;
}

static void test_parse(void **state)
{
  struct seen seen = {""};
  char *path = write_temp(
    "# comment\nregistry = http://127.0.0.1:8470\n; other\n\n"
    "[daemon]\n  token-file=\"/etc/phonebind/token\"  \nempty =\n");
  (void)state;
  assert_int_equal(ini_parse_file(path, collect, &seen, NULL), 0);
  assert_string_equal(seen.text,
                      "[]registry=http://127.0.0.1:8470;"
                      "[daemon]token-file=/etc/phonebind/token;[daemon]empty=;");
  unlink(path);
  free(path);
}

static void test_malformed(void **state)
{
  struct seen seen = {""};
  int line = 0;
  char *path = write_temp("a = 1\nno equals sign\n");
  (void)state;
  assert_int_equal(ini_parse_file(path, collect, &seen, &line), -EINVAL);
  assert_int_equal(line, 2);
  unlink(path);
  free(path);
}

static void test_missing(void **state)
{
  (void)state;
  assert_int_equal(ini_parse_file("/nonexistent/phonebind.conf", collect, NULL, NULL), -ENOENT);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse), cmocka_unit_test(test_malformed),
                                     cmocka_unit_test(test_missing)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
