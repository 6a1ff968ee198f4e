/* Neutralising text from a device. Faults tried: escape sequences and C1
 * codes from a hostile USB descriptor, newlines that would forge a log
 * line, bidirectional overrides, invalid, overlong and truncated UTF-8,
 * surrogates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "untrusted_text.h"

static void test_sanitize(void **state)
{
  static const struct {
    const char *in, *out;
  } cases[] = {
    {"Pixel 7", "Pixel 7"},
    {"", ""},
    {"Evil\033]0;owned\007Phone", "Evil?]0;owned?Phone"},
    {"tab\tnew\nline\r", "tab?new?line?"},
    {"del\x7f", "del?"},
    {"c1\xc2\x9b"
     "31m",
     "c1?31m"}, /* U+009B, the 8-bit CSI */
    {"bidi\xe2\x80\xae"
     "evil",
     "bidi?evil"},                         /* U+202E */
    {"isolate\xe2\x81\xa6x", "isolate?x"}, /* U+2066 */
    {"bad\xff\xfe", "bad??"},              /* not UTF-8 */
    {"overlong\xc0\xaf", "overlong??"},    /* '/' in two bytes */
    {"cut\xe2\x82", "cut??"},              /* truncated sequence */
    {"surrogate\xed\xa0\x80", "surrogate???"},
    {"Xiaomi \xe5\xb0\x8f\xe7\xb1\xb3", "Xiaomi \xe5\xb0\x8f\xe7\xb1\xb3"}, /* 小米 stays */
    {"repl\xef\xbf\xbd", "repl\xef\xbf\xbd"}, /* a real U+FFFD stays */
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *got = text_sanitize(cases[i].in);
    if (strcmp(got, cases[i].out) != 0)
      fail_msg("case %zu: \"%s\" → \"%s\"", i, cases[i].in, got);
    free(got);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sanitize)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
