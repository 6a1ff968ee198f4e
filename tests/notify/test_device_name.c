/* The name phonebind-notify calls a phone by. Faults tried: an empty or
 * missing model (the vendor's name, then a plain "A phone"), a model of
 * spaces, escape sequences and bidirectional overrides from a hostile
 * descriptor, invalid UTF-8, a very long name (cut on a character, not
 * inside a UTF-8 sequence). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "device_name.h"

static void test_names(void **state)
{
  static const struct {
    const char *vendor, *model, *name;
  } cases[] = {
    {"Google", "Pixel 7", "Pixel 7"},
    {"Google", "  Pixel 7 ", "Pixel 7"},
    {"Google", "", "Google phone"},
    {"Google", "   ", "Google phone"},
    {"Google", NULL, "Google phone"},
    {"", "", "A phone"},
    {NULL, NULL, "A phone"},
    {" ", NULL, "A phone"},
    {"Google", "Evil\033[2J\nPhone", "Evil?[2J?Phone"},
    {"Google",
     "bidi\xe2\x80\xae"
     "evil",
     "bidi?evil"},
    {"Google", "bad\xff", "bad?"},
    {"Xiaomi", "\xe5\xb0\x8f\xe7\xb1\xb3 13", "\xe5\xb0\x8f\xe7\xb1\xb3 13"},
    /* 40 characters stay */
    {"X", "0123456789012345678901234567890123456789", "0123456789012345678901234567890123456789"},
    /* 41 are cut to 39 and an ellipsis */
    {"X", "01234567890123456789012345678901234567890",
     "012345678901234567890123456789012345678\xe2\x80\xa6"},
    /* 41 two-byte characters: cut between them */
    {"X",
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x80\xa6"},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *got = device_name(cases[i].vendor, cases[i].model);
    if (strcmp(got, cases[i].name) != 0)
      fail_msg("case %zu: \"%s\"", i, got);
    free(got);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_names)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
