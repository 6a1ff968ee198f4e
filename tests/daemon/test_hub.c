/* The hub (terminals.c, terminal.c, with the decision machine and the
 * releaser) against fakes of its edges (hub/fakes.c): each test drives
 * udev's reports and the registry's answers by hand and asserts the exact
 * sequence of what the bus was told. Attach, detach, re-enumeration, the
 * wait for the first account, Forget with a call in flight, retry
 * backoff, a cloned serial, a refused token, renewal of a connected
 * phone's binding (binding-ttl) until a 409 says it lapsed and was taken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "handle.h"
#include "hub/fakes.h"
#include "release.h"
#include "renew.h"
#include "seq.h"
#include "terminals.h"

static uint64_t fake_now_us = 1764000000000000ull;

static uint64_t fake_wall_us(void *userdata)
{
  (void)userdata;
  return fake_now_us++;
}

static double fake_random(void *userdata)
{
  (void)userdata;
  return 0;
}

static const struct clock fake_clock = {.wall_us = fake_wall_us, .random_unit = fake_random};

struct world {
  struct event_base *base;
  struct daemon_config config;
  struct handle_key key;
  struct seq_counter seq;
  struct releaser *releaser;
  struct renewer *renewer;
  struct terminals *terminals;
  struct bus_handlers bus;
};

static int dummy_store; /* a store the fakes stand for */
#define STORE ((struct store *)&dummy_store)

static struct releaser *new_releaser(struct world *w)
{
  const struct releaser_options options = {
    .base = w->base,
    .store = STORE,
    .seq = &w->seq,
    .retry_initial_s = 0.01,
    .retry_max_s = 0.04,
    .clock = &fake_clock,
    .name_of = handle_name_of,
    .userdata = &w->key,
  };

  return releaser_new(&options);
}

static struct terminals *new_terminals(struct world *w)
{
  const struct hub deps = {
    .base = w->base,
    .store = STORE,
    .releaser = w->releaser,
    .renewer = w->renewer,
    .seq = &w->seq,
    .clock = &fake_clock,
    .handle_key = &w->key,
    .config = &w->config,
  };

  return terminals_new(&deps);
}

static int setup(void **state)
{
  struct world *w = calloc(1, sizeof *w);

  fakes_reset();
  w->base = event_base_new();
  w->config = (struct daemon_config){
    .registry = (char *)"http://registry.test",
    .identifier = TERMINAL_ID_RULE_SERIAL,
    .retry_initial_s = 0.01,
    .retry_max_s = 0.04,
  };
  memset(w->key.bytes, 7, sizeof w->key.bytes);
  seq_counter_init(&w->seq, STORE);
  w->releaser = new_releaser(w);
  releaser_set_account(w->releaser, fake_account);
  w->renewer = renewer_new(&(struct renewer_options){.base = w->base, .clock = &fake_clock});
  w->terminals = new_terminals(w);
  renewer_start(w->renewer,
                &(struct renewer_handlers){.due = terminals_renew_due, .userdata = w->terminals});
  terminals_bus_handlers(w->terminals, &w->bus);
  *state = w;
  return 0;
}

static int teardown(void **state)
{
  struct world *w = *state;

  terminals_free(w->terminals);
  renewer_free(w->renewer);
  releaser_free(w->releaser);
  event_base_free(w->base);
  free(w);
  return 0;
}

static void attach(struct world *w, const char *port, const char *serial, const char *devnum)
{
  char syspath[64];
  const struct phone_info info = {
    .vendor_id = (char *)"18d1",
    .product_id = (char *)"4ee1",
    .vendor = (char *)"Google",
    .model = (char *)"Pixel 7",
    .serial = (char *)serial,
    .devnode = (char *)"",
    .busnum = (char *)"1",
    .devnum = (char *)devnum,
  };

  snprintf(syspath, sizeof syspath, "/sys/devices/usb1/%s", port);
  terminals_attached(syspath, &info, w->terminals);
}

static void detach(struct world *w, const char *port)
{
  char syspath[64];

  snprintf(syspath, sizeof syspath, "/sys/devices/usb1/%s", port);
  terminals_detached(syspath, w->terminals);
}

/* The handle the bus is told of for a serial. */
static const char *handle(struct world *w, const char *serial)
{
  static char handles[4][HANDLE_LEN + 1];
  static int next;
  char id[128];
  char *out = handles[next++ % 4];

  snprintf(id, sizeof id, "usb:18d1:%s", serial);
  handle_of_id(&w->key, id, out);
  return out;
}

/* The bus's events so far, each checked against the expected lines. */
static void expect_events(const char *const *expected, size_t count)
{
  for (size_t i = 0; i < count && i < fake_event_count; i++)
    assert_string_equal(fake_events[i], expected[i]);
  assert_int_equal(fake_event_count, count);
}

static const char *line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *line(const char *fmt, ...)
{
  static char lines[16][160];
  static int next;
  char *out = lines[next++ % 16];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(out, 160, fmt, ap);
  va_end(ap);
  return out;
}

/* The last call made, which must be of this kind and still open. */
static size_t last_call(enum fake_call_kind kind)
{
  assert_true(fake_call_count > 0);
  assert_int_equal(fake_calls[fake_call_count - 1].kind, kind);
  assert_true(fake_calls[fake_call_count - 1].open);
  return fake_call_count - 1;
}

/* Runs the loop until a new call is made (a retry) or the time is up. */
static void run_until_call(struct world *w, size_t calls_before)
{
  for (int i = 0; i < 200 && fake_call_count == calls_before; i++) {
    const struct timeval tick = {0, 2000};
    event_base_loopexit(w->base, &tick);
    event_base_dispatch(w->base);
  }
}

static void test_new_phone_claimed(void **state)
{
  struct world *w = *state;
  const char *h = handle(w, "NEW1");

  attach(w, "1-1", "NEW1", "5");
  fake_answer(last_call(FAKE_LOOKUP), 200, REGISTRY_STATUS_UNBOUND);
  assert_true(fake_calls[last_call(FAKE_CLAIM)].seq >= 1764000000000000ull);
  fake_answer(last_call(FAKE_CLAIM), 201, REGISTRY_STATUS_NONE);
  expect_events(
    (const char *[]){line("attached %s", h), line("decision %s connect new-binding", h)}, 2);
  assert_true(fake_store_has("usb:18d1:NEW1"));
}

static void test_known_phone_connects_at_once(void **state)
{
  struct world *w = *state;
  const char *h = handle(w, "KNOWN");

  fake_store_put("usb:18d1:KNOWN");
  attach(w, "1-1", "KNOWN", "5");
  expect_events((const char *[]){line("attached %s", h), line("decision %s connect known", h)}, 2);
  assert_int_equal(fake_call_count, 0); /* the confirmation comes after the Decision */
  run_until_call(w, 0);
  fake_answer(last_call(FAKE_CLAIM), 200, REGISTRY_STATUS_NONE); /* confirmed: silent */
  assert_int_equal(fake_event_count, 2);
}

/* Fault: a known phone unplugged within the few milliseconds between its
 * Decision and its confirming claim; the deferred claim must not be sent
 * for a terminal that is gone (freed: ASan's build would say so). */
static void test_detach_before_the_confirmation(void **state)
{
  struct world *w = *state;

  fake_store_put("usb:18d1:QUICK");
  attach(w, "1-1", "QUICK", "5");
  detach(w, "1-1");
  run_until_call(w, 0); /* 0.4 s of loop: long past the delay */
  assert_int_equal(fake_call_count, 0);
  assert_int_equal(terminals_count(w->terminals), 0);
}

static void test_attach_twice_detach_cancels(void **state)
{
  struct world *w = *state;
  const char *h = handle(w, "GONE");
  size_t lookup;

  attach(w, "1-2", "GONE", "6");
  attach(w, "1-2", "GONE", "6"); /* monitor and enumeration overlap */
  lookup = last_call(FAKE_LOOKUP);
  assert_int_equal(fake_call_count, 1);
  detach(w, "1-2");
  assert_false(fake_calls[lookup].open);
  detach(w, "1-2"); /* a remove of nothing known */
  expect_events((const char *[]){line("attached %s", h), line("detached %s", h)}, 2);
  assert_int_equal(terminals_count(w->terminals), 0);
}

static void test_rescan(void **state)
{
  struct world *w = *state;
  const char *stays = handle(w, "STAYS"), *ghost = handle(w, "GHOST");
  const char *old = handle(w, "OLD"), *swapped = handle(w, "SWAPPED");

  fake_store_put("usb:18d1:STAYS");
  fake_store_put("usb:18d1:GHOST");
  fake_store_put("usb:18d1:OLD");
  fake_store_put("usb:18d1:SWAPPED");
  attach(w, "1-1", "STAYS", "2");
  attach(w, "1-2", "GHOST", "3");
  attach(w, "1-3", "OLD", "4");
  fake_event_count = 0;
  terminals_rescan_begin(w->terminals);
  attach(w, "1-1", "STAYS", "2");   /* still there */
  attach(w, "1-3", "SWAPPED", "9"); /* another phone at OLD's port */
  terminals_rescan_end(w->terminals);
  expect_events((const char *[]){line("detached %s", old), line("attached %s", swapped),
                                 line("decision %s connect known", swapped),
                                 line("detached %s", ghost)},
                4);
  assert_int_equal(terminals_count(w->terminals), 2);
  (void)stays;
}

static void test_waits_for_the_first_account(void **state)
{
  struct world *w = *state;
  const char *h = handle(w, "EARLY");

  fake_account = NULL;
  fake_account_state = ACCOUNT_REQUESTING;
  attach(w, "1-1", "EARLY", "2");
  assert_int_equal(fake_call_count, 0); /* no registry call, no pending */
  fake_account = "sa-new";
  fake_account_state = ACCOUNT_READY;
  terminals_account_changed(w->terminals);
  fake_answer(last_call(FAKE_LOOKUP), 200, REGISTRY_STATUS_BOUND_TO_OTHER);
  expect_events((const char *[]){line("attached %s", h), "account",
                                 line("decision %s keep-existing bound-elsewhere", h)},
                3);
}

static int forget_error = 1;

static void on_forgotten(int error, void *call)
{
  (void)call;
  forget_error = error;
}

static void test_forget_waits_for_the_call_in_flight(void **state)
{
  struct world *w = *state;
  const char *h = handle(w, "FORGET");
  size_t confirm;

  fake_store_put("usb:18d1:FORGET");
  attach(w, "1-1", "FORGET", "2");
  forget_error = 1;
  /* before the confirming PUT is even sent (it follows the Decision by a
   * few milliseconds): no DELETE until it is sent and answered */
  w->bus.forget(w->bus.userdata, h, on_forgotten, NULL);
  assert_int_equal(fake_call_count, 0);
  run_until_call(w, 0);
  confirm = last_call(FAKE_CLAIM);
  assert_int_equal(fake_call_count, 1); /* no DELETE while the PUT is on the wire */
  assert_int_equal(forget_error, 1);
  fake_answer(confirm, 200, REGISTRY_STATUS_NONE);
  assert_true(fake_calls[last_call(FAKE_RELEASE)].seq > fake_calls[confirm].seq);
  fake_answer(last_call(FAKE_RELEASE), 204, REGISTRY_STATUS_NONE);
  assert_int_equal(forget_error, 0);
  expect_events((const char *[]){line("attached %s", h), line("decision %s connect known", h),
                                 line("decision %s released forgotten", h)},
                3);
  assert_false(fake_store_has("usb:18d1:FORGET"));
  assert_int_equal(w->bus.retry(w->bus.userdata, "nosuchhandle"), -ENODEV);
}

static void test_retry_backoff(void **state)
{
  struct world *w = *state;
  const char *h = handle(w, "AWAY");
  size_t calls;

  attach(w, "1-1", "AWAY", "2");
  fake_answer_failure(last_call(FAKE_LOOKUP), false);
  calls = fake_call_count;
  run_until_call(w, calls);
  fake_answer_failure(last_call(FAKE_LOOKUP), false); /* again: said once */
  calls = fake_call_count;
  run_until_call(w, calls);
  fake_answer(last_call(FAKE_LOOKUP), 200, REGISTRY_STATUS_BOUND_TO_OTHER);
  expect_events((const char *[]){line("attached %s", h),
                                 line("decision %s pending registry-unreachable", h),
                                 line("decision %s keep-existing bound-elsewhere", h)},
                3);
  assert_int_equal(fake_call_count, 3);
}

static void test_cloned_serial_is_not_bound(void **state)
{
  struct world *w = *state;
  const char *h = handle(w, "CLONE");
  char open[4][160];

  attach(w, "1-1", "CLONE", "2");
  attach(w, "1-2", "CLONE", "3");
  assert_int_equal(fake_open_calls(open, 4), 1); /* the first one's lookup only */
  assert_string_equal(open[0], "lookup usb:18d1:CLONE");
  assert_int_equal(fake_event_count, 3);
  assert_string_equal(fake_events[0], line("attached %s", h));
  assert_true(strncmp(fake_events[2], "decision ", 9) == 0);
  assert_non_null(strstr(fake_events[2], " unidentified no-identifier"));
}

static void test_refused_token(void **state)
{
  struct world *w = *state;
  const char *h = handle(w, "REFUSED");

  fake_store_put("usb:18d1:REFUSED");
  attach(w, "1-1", "REFUSED", "2");
  run_until_call(w, 0);
  fake_answer(last_call(FAKE_CLAIM), 401, REGISTRY_STATUS_NONE);
  expect_events((const char *[]){line("attached %s", h), line("decision %s connect known", h),
                                 line("decision %s pending account-refused", h)},
                3);
}

/* Renewal (binding-ttl 30 s: every 10 s): the confirming claim again,
 * silent on 200; a 409 (lapsed and taken by another) is keep-existing/
 * revoked and ends the renewals; a phone not connected is not renewed. */
static void test_renewal_while_connected(void **state)
{
  struct world *w = *state;
  const char *h = handle(w, "RENEW"), *other = handle(w, "OTHERS");
  size_t renewal, calls;

  renewer_set_ttl(w->renewer, 30);
  attach(w, "1-1", "RENEW", "2");
  fake_answer(last_call(FAKE_LOOKUP), 200, REGISTRY_STATUS_UNBOUND);
  fake_answer(last_call(FAKE_CLAIM), 201, REGISTRY_STATUS_NONE);
  attach(w, "1-2", "OTHERS", "3");
  fake_answer(last_call(FAKE_LOOKUP), 200, REGISTRY_STATUS_BOUND_TO_OTHER);
  calls = fake_call_count;
  fake_now_us += 5000000;
  renewer_check(w->renewer);
  assert_int_equal(fake_call_count, calls); /* not due yet */
  fake_now_us += 6000000;
  renewer_check(w->renewer);
  renewal = last_call(FAKE_CLAIM);
  assert_string_equal(fake_calls[renewal].id, "usb:18d1:RENEW");
  assert_int_equal(fake_call_count, calls + 1); /* the phone bound elsewhere is not renewed */
  fake_answer(renewal, 200, REGISTRY_STATUS_NONE);
  fake_now_us += 11000000;
  renewer_check(w->renewer);
  assert_true(fake_calls[last_call(FAKE_CLAIM)].seq > fake_calls[renewal].seq);
  fake_answer(last_call(FAKE_CLAIM), 409, REGISTRY_STATUS_BOUND_TO_OTHER);
  assert_false(fake_store_has("usb:18d1:RENEW"));
  calls = fake_call_count;
  fake_now_us += 11000000;
  renewer_check(w->renewer);
  assert_int_equal(fake_call_count, calls);
  assert_true(renewer_next_wake_us(w->renewer) == UINT64_MAX);
  expect_events((const char *[]){line("attached %s", h), line("decision %s connect new-binding", h),
                                 line("attached %s", other),
                                 line("decision %s keep-existing bound-elsewhere", other),
                                 line("decision %s keep-existing revoked", h)},
                5);
}

/* A connected phone unplugged is renewed no more. */
static void test_detached_is_not_renewed(void **state)
{
  struct world *w = *state;
  size_t calls;

  renewer_set_ttl(w->renewer, 30);
  fake_store_put("usb:18d1:UNPLUG");
  attach(w, "1-1", "UNPLUG", "2");
  run_until_call(w, 0); /* the confirmation comes after the Decision */
  fake_answer(last_call(FAKE_CLAIM), 200, REGISTRY_STATUS_NONE);
  assert_true(renewer_next_wake_us(w->renewer) != UINT64_MAX);
  detach(w, "1-1");
  calls = fake_call_count;
  fake_now_us += 11000000;
  renewer_check(w->renewer);
  assert_int_equal(fake_call_count, calls);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_new_phone_claimed, setup, teardown),
    cmocka_unit_test_setup_teardown(test_known_phone_connects_at_once, setup, teardown),
    cmocka_unit_test_setup_teardown(test_detach_before_the_confirmation, setup, teardown),
    cmocka_unit_test_setup_teardown(test_attach_twice_detach_cancels, setup, teardown),
    cmocka_unit_test_setup_teardown(test_rescan, setup, teardown),
    cmocka_unit_test_setup_teardown(test_waits_for_the_first_account, setup, teardown),
    cmocka_unit_test_setup_teardown(test_forget_waits_for_the_call_in_flight, setup, teardown),
    cmocka_unit_test_setup_teardown(test_retry_backoff, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cloned_serial_is_not_bound, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refused_token, setup, teardown),
    cmocka_unit_test_setup_teardown(test_renewal_while_connected, setup, teardown),
    cmocka_unit_test_setup_teardown(test_detached_is_not_renewed, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
