/* What phonebind-notify says for each decision, as a table: every
 * decision and reason of docs/dbus-api.md, the ones it keeps quiet about
 * (connect/known unless asked, pending/releasing), reasons and decisions
 * it does not know, and a phone whose name is markup. Faults tried: a
 * known phone announced by default, a hostile model's markup passed to
 * the server unescaped, the summary escaped (the spec's summary is plain
 * text: a server would show "&amp;"), an interim decision shown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "decision_text.h"

struct text_case {
  const char *decision, *reason, *phone;
  bool show_known, markup;
  const char *summary; /* NULL: nothing shown */
  const char *body, *category;
  bool transient;
};

static const struct text_case cases[] = {
  {"connect", "new-binding", "Pixel 7", false, true, "Pixel 7 connected to this PC",
   "It is bound to this PC now and connects here from now on.", "device.added", false},
  {"connect", "restored", "Pixel 7", false, true, "Pixel 7 connected to this PC",
   "The registry still had it bound to this PC.", "device.added", false},
  {"connect", "known", "Pixel 7", false, true, NULL, NULL, NULL, false},
  {"connect", "known", "Pixel 7", true, true, "Pixel 7 connected to this PC",
   "It was bound to this PC before.", "device.added", false},
  {"keep-existing", "bound-elsewhere", "Pixel 7", false, true, "Pixel 7 belongs to another PC",
   "It stays bound to the PC it was bound to first and is not connected here. "
   "Release it there (phonebindctl forget) to use it on this PC.",
   "device.error", false},
  {"keep-existing", "race-lost", "Galaxy S23", false, true, "Galaxy S23 belongs to another PC",
   "Another PC bound it at the same moment. It is not connected here.", "device.error", false},
  {"keep-existing", "revoked", "Pixel 7", false, true, "Pixel 7 belongs to another PC now",
   "It was bound to this PC, but the registry has it bound to another PC. "
   "It is no longer connected here.",
   "device.error", false},
  {"pending", "registry-unreachable", "Pixel 7", false, true, "Waiting for the registry",
   "Pixel 7 connects once the registry can be asked whether it belongs to another PC. "
   "phonebind keeps trying.",
   "device", true},
  {"pending", "awaiting-trust", "iPhone", false, true,
   "Unlock the phone and accept 'Trust this computer'",
   "iPhone has not trusted this PC yet, so it cannot be identified. "
   "(On Android, allow USB debugging.)",
   "device", true},
  {"pending", "account-refused", "Pixel 7", false, true, "Pixel 7 cannot be bound now",
   "The registry refused this PC's account. An administrator can see why with "
   "phonebindctl status.",
   "device.error", true},
  {"pending", "releasing", "Pixel 7", true, true, NULL, NULL, NULL, false},
  {"unidentified", "no-identifier", "A phone", false, true, "A phone cannot be bound",
   "It reports neither a usable serial number nor an IMEI, so it cannot be told apart "
   "from other phones. It is not connected.",
   "device.error", false},
  {"released", "forgotten", "Pixel 7", false, true, "Pixel 7 released from this PC",
   "Its binding is gone. It is not connected until it is plugged in again.", "device", false},
  /* reasons a later daemon may add: the decision's general words */
  {"connect", "some-new-reason", "Pixel 7", false, true, "Pixel 7 connected to this PC",
   "It is bound to this PC.", "device.added", false},
  {"keep-existing", "some-new-reason", "Pixel 7", false, true, "Pixel 7 belongs to another PC",
   "It is not connected here.", "device.error", false},
  {"pending", "some-new-reason", "Pixel 7", false, true, "Pixel 7 is not connected yet",
   "phonebind is still deciding.", "device", true},
  /* a decision without words, and nonsense */
  {"exploded", "known", "Pixel 7", true, true, NULL, NULL, NULL, false},
  {"", "", "Pixel 7", true, true, NULL, NULL, NULL, false},
  /* a model that is markup: escaped in the body only when the server reads
   * markup; the summary is plain text for every server */
  {"pending", "registry-unreachable", "<b>Evil</b> & 'Co'", false, true, "Waiting for the registry",
   "&lt;b&gt;Evil&lt;/b&gt; &amp; 'Co' connects once the registry can be asked "
   "whether it belongs to another PC. phonebind keeps trying.",
   "device", true},
  {"pending", "registry-unreachable", "<b>Evil</b> & 'Co'", false, false,
   "Waiting for the registry",
   "<b>Evil</b> & 'Co' connects once the registry can be asked whether it belongs to another "
   "PC. phonebind keeps trying.",
   "device", true},
  {"connect", "new-binding", "<i>x</i> & y", false, true, "<i>x</i> & y connected to this PC",
   "It is bound to this PC now and connects here from now on.", "device.added", false},
  /* the placeholder's own text in a name is not filled in again */
  {"connect", "new-binding", "{phone}", false, true, "{phone} connected to this PC",
   "It is bound to this PC now and connects here from now on.", "device.added", false},
};

static void test_texts(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const struct text_case *c = &cases[i];
    struct notify_message m = {0};
    bool made = decision_text_make(c->decision, c->reason, c->phone, c->show_known, c->markup, &m);

    if (made != (c->summary != NULL))
      fail_msg("case %zu (%s/%s): made %d", i, c->decision, c->reason, made);
    if (made != decision_text_wanted(c->decision, c->reason, c->show_known))
      fail_msg("case %zu (%s/%s): wanted disagrees with make", i, c->decision, c->reason);
    if (!made) {
      assert_null(m.summary);
      continue;
    }
    if (strcmp(m.summary, c->summary) != 0)
      fail_msg("case %zu: summary \"%s\"", i, m.summary);
    if (strcmp(m.body, c->body) != 0)
      fail_msg("case %zu: body \"%s\"", i, m.body);
    if (strcmp(m.category, c->category) != 0)
      fail_msg("case %zu: category \"%s\"", i, m.category);
    if (m.transient != c->transient)
      fail_msg("case %zu: transient %d", i, m.transient);
    notify_message_clear(&m);
    assert_null(m.summary);
  }
}

/* A signal without arguments must not crash the table's lookup. */
static void test_missing_strings(void **state)
{
  struct notify_message m = {0};

  (void)state;
  assert_false(decision_text_wanted(NULL, "known", true));
  assert_false(decision_text_wanted("connect", NULL, true));
  assert_false(decision_text_make(NULL, NULL, "Pixel 7", true, true, &m));
  assert_null(m.summary);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_texts),
    cmocka_unit_test(test_missing_strings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
