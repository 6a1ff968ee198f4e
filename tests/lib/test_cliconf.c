/* Flags and the settings file: the file named by every spelling getopt
 * accepts for --config is read (-cFILE, -c FILE, --config=FILE, and the
 * abbreviations --conf FILE, --con=FILE), flags override it wherever they
 * stand, and a missing file is an error. */
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

#include "cliconf.h"

struct settings {
  char color[32];
  int sets;
};

static int set(void *userdata, const char *key, const char *value)
{
  struct settings *settings = userdata;

  if (strcmp(key, "color") != 0)
    return -1;
  snprintf(settings->color, sizeof settings->color, "%s", value);
  settings->sets++;
  return 0;
}

static const struct option options[] = {
  {"config", required_argument, NULL, 'c'},
  {"color", required_argument, NULL, 'k'},
  {"help", no_argument, NULL, 'h'},
  {"version", no_argument, NULL, 'V'},
  {NULL, 0, NULL, 0},
};

static struct settings parse(int argc, const char **argv, int expect)
{
  struct settings settings = {"unset", 0};
  const struct cliconf conf = {
    .program = "test",
    .options = options,
    .short_options = "c:k:hV",
    .section = "test",
    .usage = "",
    .version = "",
    .set = set,
    .settings = &settings,
  };

  assert_int_equal(cliconf_parse(&conf, argc, (char **)argv), expect);
  return settings;
}

static char *config_file(void)
{
  char *path = strdup("/tmp/phonebind-cliconf-XXXXXX");
  int fd = mkstemp(path);
  const char text[] = "[test]\ncolor = from-file\n";

  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
  close(fd);
  return path;
}

/* Fault: getopt takes -cFILE and unambiguous abbreviations of --config,
 * but the file was looked for by exact spelling only: those forms parsed
 * without error and silently skipped the file. */
static void test_every_spelling_reads_the_file(void **state)
{
  char *path = config_file();
  char glued[128], long_eq[128], abbrev_eq[128];
  (void)state;

  snprintf(glued, sizeof glued, "-c%s", path);
  snprintf(long_eq, sizeof long_eq, "--config=%s", path);
  snprintf(abbrev_eq, sizeof abbrev_eq, "--con=%s", path);
  const char *forms[][3] = {
    {"prog", "-c", path},     {"prog", glued, NULL},     {"prog", long_eq, NULL},
    {"prog", "--conf", path}, {"prog", abbrev_eq, NULL}, {"prog", "--config", path},
  };
  for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
    int argc = forms[i][2] ? 3 : 2;
    struct settings settings = parse(argc, forms[i], 0);
    assert_string_equal(settings.color, "from-file");
  }
  unlink(path);
  free(path);
}

static void test_flags_override_the_file(void **state)
{
  char *path = config_file();
  char glued[128];
  (void)state;

  snprintf(glued, sizeof glued, "-c%s", path);
  const char *before[] = {"prog", "--color", "from-flag", glued};
  const char *after[] = {"prog", "--conf", path, "-kfrom-flag"};
  assert_string_equal(parse(4, before, 0).color, "from-flag");
  assert_string_equal(parse(4, after, 0).color, "from-flag");
  unlink(path);
  free(path);
}

static void test_missing_file_is_an_error(void **state)
{
  const char *argv[] = {"prog", "-c/nonexistent/phonebind.conf"};
  (void)state;
  parse(2, argv, -1);
}

static void test_booleans(void **state)
{
  static const struct {
    const char *text;
    int r;
    bool value;
  } rows[] = {
    {"yes", 0, true},    {"TRUE", 0, true}, {"1", 0, true},        {"no", 0, false},
    {"False", 0, false}, {"0", 0, false},   {"y", -EINVAL, false}, {"", -EINVAL, false},
  };
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    bool value = !rows[i].value;
    assert_int_equal(cliconf_parse_bool(rows[i].text, &value), rows[i].r);
    if (rows[i].r == 0)
      assert_int_equal(value, rows[i].value);
  }
}

static char last_flag[32];

static int set_flag(void *userdata, const char *key, const char *value)
{
  (void)userdata;
  (void)key;
  snprintf(last_flag, sizeof last_flag, "%s", value);
  return 0;
}

/* "--flag" alone means yes; "--flag=no" says no. */
static void test_optional_flag(void **state)
{
  static const struct option flag_options[] = {{"flag", optional_argument, NULL, 'f'},
                                               {NULL, 0, NULL, 0}};
  const struct cliconf conf = {.program = "test",
                               .options = flag_options,
                               .short_options = "",
                               .section = "test",
                               .set = set_flag};
  const char *alone[] = {"prog", "--flag"}, *with_no[] = {"prog", "--flag=no"};
  (void)state;
  assert_int_equal(cliconf_parse(&conf, 2, (char **)alone), 0);
  assert_string_equal(last_flag, "yes");
  assert_int_equal(cliconf_parse(&conf, 2, (char **)with_no), 0);
  assert_string_equal(last_flag, "no");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_every_spelling_reads_the_file),
    cmocka_unit_test(test_flags_override_the_file),
    cmocka_unit_test(test_missing_file_is_an_error),
    cmocka_unit_test(test_booleans),
    cmocka_unit_test(test_optional_flag),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
