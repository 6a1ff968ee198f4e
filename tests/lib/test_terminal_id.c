/* Identifier rules of DESIGN.md as a table: which serials name one phone,
 * which IMEIs pass Luhn, and which identifier each rule chooses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "terminal_id.h"

static void test_serial_usable(void **state)
{
  static const struct {
    const char *serial;
    bool usable;
  } cases[] = {
    {"R58M41ABCDE", true},
    {"  R58M41ABCDE\n", true}, /* trimmed */
    {"emulator 5554", true},   /* inner space is printable */
    {NULL, false},
    {"", false},
    {"   ", false},
    {"0123456789ABCDEF", false},
    {"1234567890ABCDEF", false},
    {"0123456789abcdef", false},
    {"123456789ABC", false}, /* a run of a counting sequence */
    {"0000000000", false},
    {"FFFFFFFF", false},
    {"a", false},
    {"unknown", false},
    {"N/A", false},
    {"ab,cd1234", false}, /* udev drops serials with commas */
    {"ab\x01"
     "cd1234",
     false}, /* control character */
    {"\xc3\xa9t\xc3\xa9"
     "123",
     false}, /* not ASCII */
    {"A1B2C3", true},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    if (terminal_serial_is_usable(cases[i].serial) != cases[i].usable)
      fail_msg("case %zu (%s): expected %s", i, cases[i].serial ? cases[i].serial : "NULL",
               cases[i].usable ? "usable" : "unusable");
  }
}

static void test_serial_length_limit(void **state)
{
  char serial[200];
  (void)state;
  for (size_t i = 0; i < sizeof serial - 1; i++)
    serial[i] = (char)('A' + (i * 7) % 26);
  serial[TERMINAL_SERIAL_MAX] = '\0';
  assert_true(terminal_serial_is_usable(serial));
  serial[TERMINAL_SERIAL_MAX] = 'Q';
  serial[TERMINAL_SERIAL_MAX + 1] = '\0';
  assert_false(terminal_serial_is_usable(serial));
}

static void test_imei_luhn(void **state)
{
  (void)state;
  assert_true(terminal_imei_is_valid("490154203237518"));
  assert_true(terminal_imei_is_valid("356938035643809"));
  assert_false(terminal_imei_is_valid("490154203237519")); /* wrong check digit */
  assert_false(terminal_imei_is_valid("49015420323751"));  /* 14 digits */
  assert_false(terminal_imei_is_valid("4901542032375180"));
  assert_false(terminal_imei_is_valid("49015420323751a"));
  assert_false(terminal_imei_is_valid("000000000000000")); /* passes Luhn, shared */
  assert_false(terminal_imei_is_valid(NULL));
}

static void test_choose(void **state)
{
  static const struct {
    enum terminal_id_rule rule;
    const char *vendor, *serial, *imei, *expect;
    enum terminal_id_kind kind;
  } cases[] = {
    {TERMINAL_ID_RULE_SERIAL, "18D1", "R58M41ABCDE", NULL, "usb:18d1:R58M41ABCDE", TERMINAL_ID_USB},
    {TERMINAL_ID_RULE_SERIAL, "18d1", "R58M41ABCDE", "490154203237518", "usb:18d1:R58M41ABCDE",
     TERMINAL_ID_USB},
    {TERMINAL_ID_RULE_SERIAL, "18d1", "0123456789ABCDEF", "490154203237518", "imei:490154203237518",
     TERMINAL_ID_IMEI},
    {TERMINAL_ID_RULE_SERIAL, "18d1", "0123456789ABCDEF", "490154203237519", "", TERMINAL_ID_NONE},
    {TERMINAL_ID_RULE_SERIAL, "18d1", NULL, NULL, "", TERMINAL_ID_NONE},
    {TERMINAL_ID_RULE_SERIAL, "xyz", "R58M41ABCDE", NULL, "", TERMINAL_ID_NONE},
    {TERMINAL_ID_RULE_IMEI, "18d1", "R58M41ABCDE", NULL, "", TERMINAL_ID_NONE},
    {TERMINAL_ID_RULE_IMEI, "18d1", "R58M41ABCDE", "490154203237518", "imei:490154203237518",
     TERMINAL_ID_IMEI},
    {TERMINAL_ID_RULE_SERIAL, "05ac", "00008030001a2b3c4d5e6f70", NULL,
     "usb:05ac:00008030-001A2B3C4D5E6F70", TERMINAL_ID_USB},
    {TERMINAL_ID_RULE_SERIAL, "05ac", "00008030-001A2B3C4D5E6F70", NULL,
     "usb:05ac:00008030-001A2B3C4D5E6F70", TERMINAL_ID_USB},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char out[TERMINAL_ID_BUF];
    enum terminal_id_kind kind = terminal_id_choose(cases[i].rule, cases[i].vendor, cases[i].serial,
                                                    cases[i].imei, out, sizeof out);
    if (kind != cases[i].kind || strcmp(out, cases[i].expect) != 0)
      fail_msg("case %zu: got kind %d \"%s\", expected %d \"%s\"", i, kind, out, cases[i].kind,
               cases[i].expect);
  }
}

static void test_acceptable(void **state)
{
  char long_id[TERMINAL_ID_MAX + 2];
  (void)state;
  assert_true(terminal_id_is_acceptable("usb:18d1:X", 10));
  assert_false(terminal_id_is_acceptable("", 0));
  assert_false(terminal_id_is_acceptable("a\nb", 3));
  memset(long_id, 'a', sizeof long_id);
  assert_true(terminal_id_is_acceptable(long_id, TERMINAL_ID_MAX));
  assert_false(terminal_id_is_acceptable(long_id, TERMINAL_ID_MAX + 1));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_serial_usable), cmocka_unit_test(test_serial_length_limit),
    cmocka_unit_test(test_imei_luhn),     cmocka_unit_test(test_choose),
    cmocka_unit_test(test_acceptable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
