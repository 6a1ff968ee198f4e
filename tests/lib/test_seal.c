/* Sealing: a round trip, the plain text nowhere in the sealed blob, two
 * seals of one text differ (fresh nonces), and a wrong key, a flipped
 * bit or a truncated blob all refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "seal.h"

static const uint8_t key[32] = {7, 7, 7}, other_key[32] = {8};
static const char text[] = "imei:490154203237518";

static void seal(uint8_t **out, size_t *out_len)
{
  assert_int_equal(seal_data(key, sizeof key, text, strlen(text), out, out_len), 0);
  assert_int_equal(*out_len, strlen(text) + SEAL_OVERHEAD);
}

static void test_round_trip(void **state)
{
  uint8_t *a, *b, *plain;
  size_t a_len, b_len, plain_len;
  (void)state;
  seal(&a, &a_len);
  seal(&b, &b_len);
  assert_memory_not_equal(a, b, a_len);
  assert_null(memmem(a, a_len, "490154203237518", 15));
  assert_int_equal(seal_open(key, sizeof key, a, a_len, &plain, &plain_len), 0);
  assert_int_equal(plain_len, strlen(text));
  assert_string_equal((char *)plain, text);
  free(plain);
  free(a);
  free(b);
}

static void test_tampering_refused(void **state)
{
  uint8_t *sealed, *plain = NULL;
  size_t len, plain_len;
  (void)state;
  seal(&sealed, &len);
  assert_int_equal(seal_open(other_key, sizeof other_key, sealed, len, &plain, &plain_len),
                   -EBADMSG);
  assert_int_equal(seal_open(key, sizeof key, sealed, len - 1, &plain, &plain_len), -EBADMSG);
  assert_int_equal(seal_open(key, sizeof key, sealed, 3, &plain, &plain_len), -EBADMSG);
  sealed[14] ^= 1;
  assert_int_equal(seal_open(key, sizeof key, sealed, len, &plain, &plain_len), -EBADMSG);
  assert_null(plain);
  free(sealed);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_round_trip),
                                     cmocka_unit_test(test_tampering_refused)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
