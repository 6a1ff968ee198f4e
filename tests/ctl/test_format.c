/* What phonebindctl prints: redaction, short Ids, terminal matching
 * (exact, prefix, ambiguous, unknown), the table and the JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

static struct ctl_terminal sample(const char *id)
{
  struct ctl_terminal t = {0};
  char path[64];
  snprintf(path, sizeof path, "/org/phonebind1/terminal/%s", id);
  t.path = strdup(path);
  t.id = strdup(id);
  t.vendor = strdup("Google");
  t.model = strdup("Pixel 7");
  t.serial = strdup("R58M41ABCDE");
  t.decision = strdup("connect");
  t.reason = strdup("known");
  t.attached = true;
  t.first_seen = 1700000000;
  return t;
}

static void test_redact_and_short(void **state)
{
  char *s;
  (void)state;
  s = ctl_redact("R58M41ABCDE");
  assert_string_equal(s, "*******BCDE");
  free(s);
  s = ctl_redact("ABCD");
  assert_string_equal(s, "****");
  free(s);
  s = ctl_redact("");
  assert_string_equal(s, "");
  free(s);
  s = ctl_short_id("0123456789abcdef", false);
  assert_string_equal(s, "01234567");
  free(s);
  s = ctl_short_id("0123456789abcdef", true);
  assert_string_equal(s, "0123456789abcdef");
  free(s);
}

static void test_match(void **state)
{
  struct ctl_terminal t[3] = {sample("aa11bb22cc33dd44"), sample("aa11ffff00001111"),
                              sample("bb00000000000000")};
  (void)state;
  assert_int_equal(ctl_match_terminal(t, 3, "aa11bb22cc33dd44"), 0);
  assert_int_equal(ctl_match_terminal(t, 3, "/org/phonebind1/terminal/bb00000000000000"), 2);
  assert_int_equal(ctl_match_terminal(t, 3, "aa11f"), 1);
  assert_int_equal(ctl_match_terminal(t, 3, "b"), 2);
  assert_int_equal(ctl_match_terminal(t, 3, "aa11"), -2);
  assert_int_equal(ctl_match_terminal(t, 3, "cc"), -1);
  assert_int_equal(ctl_match_terminal(t, 3, ""), -1);
  for (int i = 0; i < 3; i++)
    ctl_terminal_clear(&t[i]);
}

static void test_table_and_json(void **state)
{
  struct ctl_terminal t = sample("aa11bb22cc33dd44");
  const struct ctl_format redacted = {.redact = true};
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  json_t *json;
  (void)state;

  ctl_print_table(out, &t, 1, &redacted);
  fclose(out);
  assert_non_null(strstr(text, "aa11bb22  connect"));
  assert_non_null(strstr(text, "*******BCDE"));
  assert_null(strstr(text, "R58M41"));
  free(text);

  json = ctl_terminal_json(&t, &redacted);
  assert_string_equal(json_string_value(json_object_get(json, "id")), "aa11bb22cc33dd44");
  assert_string_equal(json_string_value(json_object_get(json, "serial")), "*******BCDE");
  assert_true(json_is_true(json_object_get(json, "attached")));
  assert_int_equal(json_integer_value(json_object_get(json, "first_seen")), 1700000000);
  json_decref(json);
  ctl_terminal_clear(&t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_redact_and_short),
                                     cmocka_unit_test(test_match),
                                     cmocka_unit_test(test_table_and_json)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
