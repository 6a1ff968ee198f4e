/* What phonebindctl prints: aligned tables, key/value text, JSON, monitor
 * lines. Faults tried: a model string carrying terminal escape sequences
 * (neutralised in text, escaped in JSON), empty fields, cells of unequal
 * width, two Ids sharing their first 8 characters (a table must still tell
 * them apart), colour asked for or not, a serial and an account to redact,
 * a daemon not running. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "table.h"

#define T(handle, model_, serial_, decision_, reason_)                                             \
  {                                                                                                \
    .path = (char *)"/org/phonebind1/terminal/" handle, .id = (char *)handle,                      \
    .vendor = (char *)"Google", .model = (char *)model_, .serial = (char *)serial_,                \
    .decision = (char *)decision_, .reason = (char *)reason_, .attached = true,                    \
    .first_seen = 1700000000, .last_seen = 1700000100,                                             \
  }

/* Runs print into a string; the caller frees it. */
#define CAPTURE(text, call)                                                                        \
  do {                                                                                             \
    size_t len_;                                                                                   \
    FILE *out = open_memstream(&(text), &len_);                                                    \
    call;                                                                                          \
    fclose(out);                                                                                   \
  } while (0)

static json_t *parse(const char *text)
{
  json_error_t error;
  json_t *json = json_loads(text, 0, &error);
  if (!json)
    fail_msg("not JSON (%s): %s", error.text, text);
  return json;
}

static const char *get_string(json_t *object, const char *key)
{
  json_t *value = json_object_get(object, key);
  if (!json_is_string(value))
    fail_msg("no string %s", key);
  return json_string_value(value);
}

static void test_table_aligns(void **state)
{
  static const char *const headers[] = {"A", "LONGER", "C"};
  static const char *const row1[] = {"wide-cell", "x", "last"};
  static const char *const row2[] = {"", "y", ""};
  static const char *const colors[] = {NULL, "\033[32m", NULL};
  struct ctl_table *table = ctl_table_new(3, headers);
  char *text = NULL;
  (void)state;
  ctl_table_add_row(table, row1, colors);
  ctl_table_add_row(table, row2, NULL);
  CAPTURE(text, ctl_table_print(table, out, false));
  assert_string_equal(text,
                      "A          LONGER  C\n"
                      "wide-cell  x       last\n"
                      "-          y       -\n");
  free(text);
  CAPTURE(text, ctl_table_print(table, out, true));
  assert_string_equal(text,
                      "\033[1mA\033[0m          \033[1mLONGER\033[0m  \033[1mC\033[0m\n"
                      "wide-cell  \033[32mx\033[0m       last\n"
                      "-          y       -\n");
  free(text);
  ctl_table_free(table);
}

static void test_list_table(void **state)
{
  const struct ctl_terminal t[] = {
    T("aa11bb22cc33dd44", "Pixel 7", "R58M41ABCDE", "connect", "new-binding"),
    T("aa11bb22ff000000", "Evil\033[2J\033]0;pwned\007", "", "keep-existing", "bound-elsewhere"),
  };
  const struct ctl_format plain = {0}, redacted = {.redact = true}, full = {.ids = CTL_IDS_FULL};
  char *text = NULL;
  (void)state;

  CAPTURE(text, ctl_print_list(out, t, 2, &plain));
  assert_string_equal(text,
                      "ID         DECISION       REASON           VENDOR  MODEL               "
                      "SERIAL\n"
                      "aa11bb22c  connect        new-binding      Google  Pixel 7             "
                      "R58M41ABCDE\n"
                      "aa11bb22f  keep-existing  bound-elsewhere  Google  Evil?[2J?]0;pwned?  "
                      "-\n");
  assert_null(strchr(text, '\033'));
  free(text);

  CAPTURE(text, ctl_print_list(out, t, 1, &redacted));
  assert_non_null(strstr(text, "aa11bb22  connect"));
  assert_non_null(strstr(text, "*******BCDE"));
  assert_null(strstr(text, "R58M41"));
  free(text);

  CAPTURE(text, ctl_print_list(out, t, 1, &full));
  assert_non_null(strstr(text, "aa11bb22cc33dd44  connect"));
  free(text);

  CAPTURE(text, ctl_print_list(out, t, 0, &plain));
  assert_string_equal(text, "ID  DECISION  REASON  VENDOR  MODEL  SERIAL\n(no phone attached)\n");
  free(text);
}

static void test_list_json(void **state)
{
  const struct ctl_terminal t[] = {
    T("aa11bb22cc33dd44", "Evil\033[2J", "R58M41ABCDE", "connect", "known"),
    T("bb11bb22cc33dd44", "Pixel 8", "XYZ", "pending", "registry-unreachable"),
  };
  const struct ctl_format json = {.json = true, .redact = true},
                          json_short = {.json = true, .ids = CTL_IDS_SHORT};
  char *text = NULL;
  json_t *array, *first;
  (void)state;

  CAPTURE(text, ctl_print_list(out, t, 2, &json));
  assert_null(strchr(text, '\033')); /* escaped as \u001b */
  array = parse(text);
  assert_int_equal(json_array_size(array), 2);
  first = json_array_get(array, 0);
  assert_string_equal(get_string(first, "id"), "aa11bb22cc33dd44"); /* whole by default */
  assert_string_equal(get_string(first, "path"), "/org/phonebind1/terminal/aa11bb22cc33dd44");
  assert_string_equal(get_string(first, "model"), "Evil\033[2J");
  assert_string_equal(get_string(first, "serial"), "*******BCDE");
  assert_string_equal(get_string(first, "decision"), "connect");
  assert_string_equal(get_string(first, "reason"), "known");
  assert_true(json_is_true(json_object_get(first, "attached")));
  assert_int_equal(json_integer_value(json_object_get(first, "first_seen")), 1700000000);
  assert_int_equal(json_integer_value(json_object_get(first, "last_seen")), 1700000100);
  /* four characters or fewer: masked whole */
  assert_string_equal(get_string(json_array_get(array, 1), "serial"), "***");
  json_decref(array);
  free(text);

  CAPTURE(text, ctl_print_list(out, t, 2, &json_short));
  array = parse(text);
  assert_string_equal(get_string(json_array_get(array, 0), "id"), "aa11bb22");
  assert_string_equal(get_string(json_array_get(array, 0), "serial"), "R58M41ABCDE");
  json_decref(array);
  free(text);

  CAPTURE(text, ctl_print_list(out, t, 0, &json));
  array = parse(text);
  assert_true(json_is_array(array));
  assert_int_equal(json_array_size(array), 0);
  json_decref(array);
  free(text);
}

static void test_info(void **state)
{
  const struct ctl_terminal t = T("aa11bb22cc33dd44", "Pixel 7", "R58M41ABCDE", "connect", "known");
  const struct ctl_format plain = {0}, color = {.color = true},
                          short_json = {.json = true, .ids = CTL_IDS_SHORT};
  char *text = NULL;
  json_t *json;
  (void)state;

  CAPTURE(text, ctl_print_info(out, &t, &plain));
  assert_string_equal(text,
                      "        Id: aa11bb22cc33dd44\n"
                      "      Path: /org/phonebind1/terminal/aa11bb22cc33dd44\n"
                      "    Vendor: Google\n"
                      "     Model: Pixel 7\n"
                      "    Serial: R58M41ABCDE\n"
                      "  Attached: yes\n"
                      "  Decision: connect\n"
                      "    Reason: known\n"
                      "First seen: 2023-11-14 22:13:20 UTC\n"
                      " Last seen: 2023-11-14 22:15:00 UTC\n");
  free(text);
  CAPTURE(text, ctl_print_info(out, &t, &color));
  assert_non_null(strstr(text, "  Decision: \033[32mconnect\033[0m\n"));
  free(text);
  CAPTURE(text, ctl_print_info(out, &t, &short_json));
  json = parse(text);
  assert_string_equal(get_string(json, "id"), "aa11bb22");
  json_decref(json);
  free(text);
}

static void test_status(void **state)
{
  const struct ctl_status running = {.running = true,
                                     .version = (char *)"0.1.0",
                                     .account = (char *)"sa-0123456789abcdef",
                                     .account_state = (char *)"ready",
                                     .registry = (char *)"http://127.0.0.1:8470",
                                     .attached = 1};
  const struct ctl_status stopped = {.activatable = true};
  const struct ctl_format plain = {0}, redact = {.redact = true},
                          json = {.json = true, .redact = true};
  char *text = NULL;
  json_t *object;
  (void)state;

  CAPTURE(text, ctl_print_status(out, &running, &plain));
  assert_string_equal(text,
                      "phonebindd: running\n"
                      "   Version: 0.1.0\n"
                      "   Account: sa-0123456789abcdef (ready)\n"
                      "  Registry: http://127.0.0.1:8470\n"
                      "  Attached: 1 phone\n");
  free(text);
  CAPTURE(text, ctl_print_status(out, &running, &redact));
  assert_non_null(strstr(text, "Account: ***************cdef (ready)\n"));
  free(text);
  CAPTURE(text, ctl_print_status(out, &running, &json));
  object = parse(text);
  assert_true(json_is_true(json_object_get(object, "running")));
  assert_string_equal(get_string(object, "version"), "0.1.0");
  assert_string_equal(get_string(object, "account"), "***************cdef");
  assert_string_equal(get_string(object, "account_state"), "ready");
  assert_string_equal(get_string(object, "registry"), "http://127.0.0.1:8470");
  assert_int_equal(json_integer_value(json_object_get(object, "attached")), 1);
  json_decref(object);
  free(text);

  CAPTURE(text, ctl_print_status(out, &stopped, &plain));
  assert_string_equal(text, "phonebindd: not running (D-Bus starts it on demand)\n");
  free(text);
  CAPTURE(text, ctl_print_status(out, &stopped, &json));
  object = parse(text);
  assert_true(json_is_false(json_object_get(object, "running")));
  assert_true(json_is_true(json_object_get(object, "activatable")));
  assert_null(json_object_get(object, "version"));
  assert_null(json_object_get(object, "account_state"));
  json_decref(object);
  free(text);
}

/* AccountState: refused says what to do, in one line; an older daemon
 * that does not have the property; an account still being requested;
 * the state coloured when asked. */
static void test_status_account_state(void **state)
{
  struct ctl_status status = {.running = true,
                              .version = (char *)"0.2.0",
                              .account = (char *)"sa-0123456789abcdef",
                              .account_state = (char *)"refused",
                              .registry = (char *)"http://127.0.0.1:8470"};
  const struct ctl_format plain = {0}, color = {.color = true}, json = {.json = true};
  char *text = NULL;
  json_t *object;
  (void)state;

  CAPTURE(text, ctl_print_status(out, &status, &plain));
  assert_string_equal(text,
                      "phonebindd: running\n"
                      "   Version: 0.2.0\n"
                      "   Account: sa-0123456789abcdef (refused)\n"
                      "  Registry: http://127.0.0.1:8470\n"
                      "  Attached: 0 phones\n"
                      "The registry refused the account: run 'phonebindctl reset-account' "
                      "(a shadow account), or replace its token file and reload phonebindd "
                      "(a configured account).\n");
  free(text);
  CAPTURE(text, ctl_print_status(out, &status, &color));
  assert_non_null(strstr(text, "   Account: sa-0123456789abcdef (\033[31mrefused\033[0m)\n"));
  free(text);
  CAPTURE(text, ctl_print_status(out, &status, &json));
  object = parse(text);
  assert_string_equal(get_string(object, "account_state"), "refused");
  json_decref(object);
  assert_null(strstr(text, "reset-account"));
  free(text);

  status.account_state = (char *)""; /* a daemon older than AccountState */
  CAPTURE(text, ctl_print_status(out, &status, &plain));
  assert_non_null(strstr(text, "   Account: sa-0123456789abcdef\n  Registry"));
  assert_null(strstr(text, "reset-account"));
  free(text);
  CAPTURE(text, ctl_print_status(out, &status, &json));
  object = parse(text);
  assert_true(json_is_null(json_object_get(object, "account_state")));
  assert_string_equal(get_string(object, "account"), "sa-0123456789abcdef");
  json_decref(object);
  free(text);

  status.account = (char *)"";
  status.account_state = (char *)"requesting";
  CAPTURE(text, ctl_print_status(out, &status, &plain));
  assert_non_null(strstr(text, "   Account: none yet (requesting)\n"));
  free(text);
  CAPTURE(text, ctl_print_status(out, &status, &color));
  assert_non_null(strstr(text, "(\033[33mrequesting\033[0m)"));
  free(text);
  status.account_state = (char *)"\033[2Jbogus"; /* neutralised like any other text */
  CAPTURE(text, ctl_print_status(out, &status, &color));
  assert_non_null(strstr(text, "   Account: none yet (?[2Jbogus)\n"));
  free(text);
}

static void test_events(void **state)
{
  const char *path = "/org/phonebind1/terminal/aa11bb22cc33dd44";
  const struct ctl_event attached = {CTL_EVENT_ATTACHED, path, NULL, NULL, 1700000000};
  const struct ctl_event decision = {CTL_EVENT_DECISION, path, "connect", "new-binding",
                                     1700000001};
  const struct ctl_event stopped = {CTL_EVENT_DAEMON_STOPPED, NULL, NULL, NULL, 1700000002};
  const struct ctl_format plain = {0}, color = {.color = true}, full = {.ids = CTL_IDS_FULL},
                          json = {.json = true};
  char *text = NULL;
  json_t *object;
  (void)state;

  CAPTURE(text, ctl_print_event(out, &attached, &plain));
  assert_string_equal(text, "22:13:20  aa11bb22  attached\n");
  free(text);
  CAPTURE(text, ctl_print_event(out, &decision, &full));
  assert_string_equal(text, "22:13:21  aa11bb22cc33dd44  decision connect (new-binding)\n");
  free(text);
  CAPTURE(text, ctl_print_event(out, &decision, &color));
  assert_string_equal(text, "22:13:21  aa11bb22  decision \033[32mconnect\033[0m (new-binding)\n");
  free(text);
  CAPTURE(text, ctl_print_event(out, &stopped, &plain));
  assert_string_equal(text, "22:13:22  phonebindd stopped\n");
  free(text);

  CAPTURE(text, ctl_print_event(out, &decision, &json));
  assert_int_equal(strchr(text, '\n') - text, strlen(text) - 1); /* one line */
  object = parse(text);
  assert_string_equal(get_string(object, "event"), "Decision");
  assert_string_equal(get_string(object, "id"), "aa11bb22cc33dd44");
  assert_string_equal(get_string(object, "path"), path);
  assert_string_equal(get_string(object, "decision"), "connect");
  assert_string_equal(get_string(object, "reason"), "new-binding");
  assert_int_equal(json_integer_value(json_object_get(object, "time")), 1700000001);
  json_decref(object);
  free(text);
  CAPTURE(text, ctl_print_event(out, &stopped, &json));
  object = parse(text);
  assert_string_equal(get_string(object, "event"), "DaemonStopped");
  assert_null(json_object_get(object, "id"));
  json_decref(object);
  free(text);
}

/* The reasons of the second part (account-refused, releasing) in a list,
 * in colour, and on monitor lines: pending's colour, the reason as is. */
static void test_second_part_reasons(void **state)
{
  const struct ctl_terminal t[] = {
    T("aa11bb22cc33dd44", "Pixel 7", "R58M41ABCDE", "pending", "account-refused"),
    T("bb11bb22cc33dd44", "Pixel 8", "R58M41FGHIJ", "pending", "releasing"),
  };
  const struct ctl_event event = {CTL_EVENT_DECISION, "/org/phonebind1/terminal/bb11bb22cc33dd44",
                                  "pending", "releasing", 1700000001};
  const struct ctl_format plain = {0}, color = {.color = true};
  char *text = NULL;
  (void)state;

  CAPTURE(text, ctl_print_list(out, t, 2, &plain));
  assert_string_equal(text,
                      "ID        DECISION  REASON           VENDOR  MODEL    SERIAL\n"
                      "aa11bb22  pending   account-refused  Google  Pixel 7  R58M41ABCDE\n"
                      "bb11bb22  pending   releasing        Google  Pixel 8  R58M41FGHIJ\n");
  free(text);
  CAPTURE(text, ctl_print_list(out, t, 2, &color));
  assert_non_null(strstr(text, "bb11bb22  \033[33mpending\033[0m   releasing        Google"));
  free(text);
  CAPTURE(text, ctl_print_info(out, &t[0], &plain));
  assert_non_null(strstr(text, "  Decision: pending\n    Reason: account-refused\n"));
  free(text);
  CAPTURE(text, ctl_print_event(out, &event, &color));
  assert_string_equal(text, "22:13:21  bb11bb22  decision \033[33mpending\033[0m (releasing)\n");
  free(text);
}

static void test_decision_colors(void **state)
{
  (void)state;
  assert_string_equal(ctl_decision_color("connect"), "\033[32m");
  assert_string_equal(ctl_decision_color("keep-existing"), "\033[31m");
  assert_string_equal(ctl_decision_color("pending"), "\033[33m");
  assert_null(ctl_decision_color("something-new"));
  /* the reasons of the second part are not decisions: no colour of their own */
  assert_null(ctl_decision_color("account-refused"));
  assert_null(ctl_decision_color("releasing"));
  assert_string_equal(ctl_account_state_color("ready"), "\033[32m");
  assert_string_equal(ctl_account_state_color("unreachable"), "\033[33m");
  assert_string_equal(ctl_account_state_color("refused"), "\033[31m");
  assert_null(ctl_account_state_color(""));
}

static int use_utc(void **state)
{
  (void)state;
  setenv("TZ", "UTC", 1);
  tzset();
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_table_aligns),    cmocka_unit_test(test_list_table),
    cmocka_unit_test(test_list_json),       cmocka_unit_test(test_info),
    cmocka_unit_test(test_status),          cmocka_unit_test(test_status_account_state),
    cmocka_unit_test(test_events),          cmocka_unit_test(test_second_part_reasons),
    cmocka_unit_test(test_decision_colors),
  };
  return cmocka_run_group_tests(tests, use_utc, NULL);
}
