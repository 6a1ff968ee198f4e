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

/* The registry's grammar: what terminal_id_choose() writes, and nothing
 * else (a space, control or non-ASCII byte, a comma, a placeholder, an
 * upper-case vendor, a wrong check digit, an embedded NUL, no prefix). */
static void test_acceptable(void **state)
{
  static const struct {
    const char *id;
    bool ok;
  } cases[] = {
    {"usb:18d1:X1", true},
    {"usb:18d1:R58M41ABCDE", true},
    {"usb:04e8:RF8N20 ABC", true},
    {"usb:05ac:00008030-001A2D3C3E0B802E", true},
    {"usb:abcd:a-b_c.d~!", true},
    {"imei:490154203237518", true},
    {"", false},
    {" ", false},
    {"x", false},
    {"a\nb", false},
    {"usb:", false},
    {"usb:18d1", false},
    {"usb:18d1:", false},
    {"usb:18d1: ", false},
    {"usb:18d1: X1", false},
    {"usb:18d1:X1 ", false},
    {"usb:18d1:X1\t", false},
    {"usb:18D1:X1", false},
    {"Usb:18d1:X1", false},
    {"usb:18d:X1", false},
    {"usb:18d1X1", false},
    {"usb:18d1;X1", false},
    {"usb:xyzw:X1", false},
    {"usb:18d1:A,B", false},
    {"usb:18d1:unknown", false},
    {"usb:18d1:UNKNOWN", false},
    {"usb:18d1:0000000", false},
    {"usb:18d1:123456789", false},
    {"usb:18d1:abcdef", false},
    {"usb:18d1:X\x7f", false},
    {"usb:18d1:X\xc3\xa9", false},
    {"imei:490154203237519", false},
    {"imei:49015420323751", false},
    {"imei:4901542032375180", false},
    {"imei:000000000000000", false},
    {"imei:49015420323751a", false},
    {"IMEI:490154203237518", false},
    {"serial:R58M41", false},
  };
  char long_id[TERMINAL_ID_MAX + 2] = "usb:18d1:";
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    if (terminal_id_is_acceptable(cases[i].id, strlen(cases[i].id)) != cases[i].ok)
      fail_msg("case %zu \"%s\": not %s", i, cases[i].id, cases[i].ok ? "accepted" : "refused");
  assert_false(terminal_id_is_acceptable("usb:18d1:X1\0Y", 13)); /* a NUL inside */
  assert_true(terminal_id_is_acceptable("usb:18d1:X1\0Y", 11));
  for (size_t i = 9; i < 9 + TERMINAL_SERIAL_MAX; i++)
    long_id[i] = i % 2 ? 'Q' : 'R';
  assert_true(terminal_id_is_acceptable(long_id, 9 + TERMINAL_SERIAL_MAX));
  long_id[9 + TERMINAL_SERIAL_MAX] = 'Q';
  assert_false(terminal_id_is_acceptable(long_id, 9 + TERMINAL_SERIAL_MAX + 1));
}

/* Every identifier the daemon forms passes the registry's grammar. */
static void test_chosen_ids_are_acceptable(void **state)
{
  static const char *const serials[] = {"R58M41ABCDE", "  RF8N20 X\r\n", "\tAB-12",
                                        "00008030001A2D3C3E0B802E", "x"};
  static const char *const vendors[] = {"18d1", "18D1", "05ac", "05AC", "04e8"};
  char out[TERMINAL_ID_BUF];
  (void)state;
  for (size_t v = 0; v < sizeof vendors / sizeof *vendors; v++)
    for (size_t i = 0; i < sizeof serials / sizeof *serials; i++)
      if (terminal_id_choose(TERMINAL_ID_RULE_SERIAL, vendors[v], serials[i], "490154203237518",
                             out, sizeof out) != TERMINAL_ID_NONE &&
          !terminal_id_is_acceptable(out, strlen(out)))
        fail_msg("chosen \"%s\" refused", out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_serial_usable), cmocka_unit_test(test_serial_length_limit),
    cmocka_unit_test(test_imei_luhn),     cmocka_unit_test(test_choose),
    cmocka_unit_test(test_acceptable),    cmocka_unit_test(test_chosen_ids_are_acceptable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
