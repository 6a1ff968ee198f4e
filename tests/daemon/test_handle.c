/* Terminal handles: the same handle whether the key is prepared once
 * (the daemon) or keyed anew for every handle (the hub's tests), so that
 * a phone keeps its object path; known values, so that a change of the
 * scheme, which would move every phone's object path, cannot pass
 * unnoticed; and different identifiers, different handles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "handle.h"

static void key_of(struct handle_key *key)
{
  memset(key, 0, sizeof *key);
  for (size_t i = 0; i < sizeof key->bytes; i++)
    key->bytes[i] = (uint8_t)i;
}

static void test_prepared_key_gives_the_same_handles(void **state)
{
  static const char *const ids[] = {"usb:18d1:R58M41ABCDE", "imei:490154203237518", ""};
  struct handle_key plain, prepared;
  (void)state;
  key_of(&plain);
  key_of(&prepared);
  handle_key_prepare(&prepared);
  for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
    char a[HANDLE_LEN + 1], b[HANDLE_LEN + 1];

    handle_of_id(&plain, ids[i], a);
    handle_of_id(&prepared, ids[i], b);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), HANDLE_LEN);
    handle_of_id(&prepared, ids[i], b); /* the prepared key, used again */
    assert_string_equal(a, b);
  }
  handle_key_clear(&prepared);
  assert_null(prepared.prepared);
}

static void test_known_values(void **state)
{
  struct handle_key key;
  char out[HANDLE_LEN + 1];
  (void)state;
  key_of(&key);
  handle_key_prepare(&key);
  /* HMAC-SHA256(key 00 01 … 1f, "id:" + the id), its first 8 bytes in hex, as Python's hmac
   * computes them */
  handle_of_id(&key, "usb:18d1:R58M41ABCDE", out);
  assert_string_equal(out, "e2fd9308e2714faa");
  handle_of_unidentified(&key, "18d1", "/sys/devices/1-4", out);
  assert_string_equal(out, "612fa15df7b8fe66");
  handle_key_clear(&key);
}

static void test_different_ids_different_handles(void **state)
{
  struct handle_key key;
  char a[HANDLE_LEN + 1], b[HANDLE_LEN + 1];
  (void)state;
  key_of(&key);
  handle_key_prepare(&key);
  handle_of_id(&key, "usb:18d1:A", a);
  handle_of_id(&key, "usb:18d1:B", b);
  assert_string_not_equal(a, b);
  handle_key_clear(&key);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_prepared_key_gives_the_same_handles),
    cmocka_unit_test(test_known_values),
    cmocka_unit_test(test_different_ids_different_handles),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
