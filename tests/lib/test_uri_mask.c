/* Credentials kept out of what URIs show: userinfo, libpq's password=
 * parameter, and URIs with nothing to hide left as they are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "uri_mask.h"

static void test_table(void **state)
{
  static const struct {
    const char *uri, *shown;
  } rows[] = {
    {"https://registry.example:8470", "https://registry.example:8470"},
    {"https://user:secret@registry.example/", "https://****@registry.example/"},
    {"https://token@registry.example", "https://****@registry.example"},
    {"http://u:p@h/path@x", "http://****@h/path@x"}, /* an @ in the path is no userinfo */
    {"postgresql://pb:secret@db1,db2/phonebind?target_session_attrs=read-write",
     "postgresql://****@db1,db2/phonebind?target_session_attrs=read-write"},
    {"postgresql:///phonebind?host=/tmp&password=secret&user=pb",
     "postgresql:///phonebind?host=/tmp&password=****&user=pb"},
    {"postgresql://db/x?PASSWORD=longer-secret", "postgresql://db/x?PASSWORD=****"},
    {"postgresql://db/x?password=pw&password=", "postgresql://db/x?password=****&password=****"},
    {"registry.db", "registry.db"},
  };
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    char *shown = uri_mask_credentials(rows[i].uri);
    assert_string_equal(shown, rows[i].shown);
    free(shown);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_table)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
