/* Percent-encoding of identifiers in URL paths, including malformed escapes
 * (a fault the registry must answer with 400). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pctenc.h"

static void test_round_trip(void **state)
{
  static const char *const ids[] = {"usb:18d1:R58M41", "usb:05ac:00008030-001A", "a/b c%d?e#f",
                                    "imei:490154203237518", "\xc3\xa9"};
  (void)state;
  for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
    char *enc = pct_encode(ids[i]), dec[64];
    size_t len;
    assert_null(strchr(enc, '/'));
    assert_int_equal(pct_decode(enc, strlen(enc), dec, sizeof dec, &len), 0);
    assert_string_equal(dec, ids[i]);
    assert_int_equal(len, strlen(ids[i]));
    free(enc);
  }
}

static void test_malformed(void **state)
{
  static const char *const bad[] = {"%", "%4", "abc%", "%zz", "%4g", "a%00b"};
  char out[32];
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(pct_decode(bad[i], strlen(bad[i]), out, sizeof out, NULL), -EINVAL);
}

static void test_too_long(void **state)
{
  char out[4];
  (void)state;
  assert_int_equal(pct_decode("abc", 3, out, sizeof out, NULL), 0);
  assert_int_equal(pct_decode("abcd", 4, out, sizeof out, NULL), -E2BIG);
  assert_int_equal(pct_decode("%41%42%43%44", 12, out, sizeof out, NULL), -E2BIG);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_round_trip),
                                     cmocka_unit_test(test_malformed),
                                     cmocka_unit_test(test_too_long)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
