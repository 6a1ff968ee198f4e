/* SHA-256 and HMAC against published test vectors; hex codec; randomness
 * that does not repeat. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hash.h"

static void test_sha256_vector(void **state)
{
  uint8_t digest[HASH_SHA256_LEN];
  char hex[HASH_SHA256_HEX_LEN + 1];
  (void)state;
  hash_sha256("abc", 3, digest);
  hash_hex_encode(digest, sizeof digest, hex);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_hmac_rfc4231_case2(void **state)
{
  uint8_t mac[HASH_SHA256_LEN];
  char hex[HASH_SHA256_HEX_LEN + 1];
  const char *data = "what do ya want for nothing?";
  (void)state;
  hash_hmac_sha256((const uint8_t *)"Jefe", 4, data, strlen(data), mac);
  hash_hex_encode(mac, sizeof mac, hex);
  assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* The prepared key gives the one-shot's answer, again and again (it must
 * not consume the key), including RFC 4231's key longer than a block. */
static void test_prepared_key_matches_one_shot(void **state)
{
  uint8_t long_key[131], expected[HASH_SHA256_LEN], mac[HASH_SHA256_LEN];
  char hex[HASH_SHA256_HEX_LEN + 1];
  const char *data = "Test Using Larger Than Block-Size Key - Hash Key First";
  struct hash_hmac_key *prepared;
  (void)state;
  memset(long_key, 0xaa, sizeof long_key);
  prepared = hash_hmac_key_new(long_key, sizeof long_key);
  for (int round = 0; round < 3; round++) {
    hash_hmac_sha256_with(prepared, data, strlen(data), mac);
    hash_hex_encode(mac, sizeof mac, hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  }
  hash_hmac_sha256(long_key, sizeof long_key, "other", 5, expected);
  hash_hmac_sha256_with(prepared, "other", 5, mac);
  assert_memory_equal(mac, expected, sizeof mac);
  hash_hmac_key_free(prepared);
}

static void test_hex_decode(void **state)
{
  uint8_t out[2];
  (void)state;
  assert_int_equal(hash_hex_decode("a0Ff", out, 2), 0);
  assert_int_equal(out[0], 0xa0);
  assert_int_equal(out[1], 0xff);
  assert_int_not_equal(hash_hex_decode("a0F", out, 2), 0);
  assert_int_not_equal(hash_hex_decode("a0Ffa", out, 2), 0);
  assert_int_not_equal(hash_hex_decode("g0ff", out, 2), 0);
}

static void test_random_and_compare(void **state)
{
  uint8_t a[32], b[32];
  (void)state;
  assert_int_equal(hash_random_bytes(a, sizeof a), 0);
  assert_int_equal(hash_random_bytes(b, sizeof b), 0);
  assert_false(hash_equal_ct(a, b, sizeof a));
  memcpy(b, a, sizeof a);
  assert_true(hash_equal_ct(a, b, sizeof a));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sha256_vector), cmocka_unit_test(test_hmac_rfc4231_case2),
    cmocka_unit_test(test_prepared_key_matches_one_shot), cmocka_unit_test(test_hex_decode),
    cmocka_unit_test(test_random_and_compare)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
