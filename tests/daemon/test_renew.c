/* Renewal scheduling (daemon/renew.c): renew_plan as a table of cases,
 * then the renewer on a fake clock: phones tracked at scattered times are
 * renewed before a third of the TTL has passed, and however many phones
 * there are the one timer wakes at most twice per interval (the fault it
 * tries: one wake-up per phone, or a binding left to lapse). Also: an
 * untracked phone is never renewed, a TTL of 0 arms nothing, a shorter
 * TTL makes overdue phones due at once, and a handler may untrack while
 * the renewer walks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "renew.h"

#define S 1000000ull /* a second in microseconds */

struct plan_row {
  const char *name;
  uint64_t renewed[4];
  size_t count;
  uint64_t now, interval;
  bool due[4];
  uint64_t next;
};

/* clang-format off */
static const struct plan_row plan_rows[] = {
  {"nothing tracked", {0}, 0, 100 * S, 30 * S, {false}, UINT64_MAX},
  {"TTL 0: never due", {1 * S, 2 * S}, 2, 1000 * S, 0, {false, false}, UINT64_MAX},
  {"young: nothing due, wake at the first one's interval", {100 * S, 110 * S}, 2, 120 * S, 30 * S,
   {false, false}, 130 * S},
  {"one due alone", {100 * S, 125 * S}, 2, 130 * S, 30 * S, {true, false}, 155 * S},
  {"one due takes those past half along", {100 * S, 112 * S, 116 * S}, 3, 130 * S, 30 * S,
   {true, true, false}, 146 * S},
  {"exactly half goes along", {100 * S, 115 * S}, 2, 130 * S, 30 * S, {true, true}, 160 * S},
  {"unknown renewal (0) is due at once", {0, 125 * S}, 2, 130 * S, 30 * S, {true, false},
   155 * S},
  {"overdue after a suspend: all due", {100 * S, 110 * S, 120 * S}, 3, 500 * S, 30 * S,
   {true, true, true}, 530 * S},
  {"a clock that went back: age 0, not due", {200 * S}, 1, 150 * S, 30 * S, {false}, 230 * S},
};
/* clang-format on */

static void test_plan_table(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof plan_rows / sizeof *plan_rows; i++) {
    const struct plan_row *row = &plan_rows[i];
    struct renew_entry entries[4] = {{0}};
    uint64_t next;

    for (size_t j = 0; j < row->count; j++)
      entries[j] = (struct renew_entry){.renewed_us = row->renewed[j], .due = !row->due[j]};
    next = renew_plan(entries, row->count, row->now, row->interval);
    for (size_t j = 0; j < row->count; j++)
      if (entries[j].due != row->due[j])
        fail_msg("row \"%s\": entry %zu due=%d", row->name, j, entries[j].due);
    if (next != row->next)
      fail_msg("row \"%s\": next %llu, expected %llu", row->name, (unsigned long long)next,
               (unsigned long long)row->next);
  }
}

/* The renewer on a fake clock; the event base is never run: the test
 * plays the timer by calling renewer_check at the wake time it armed. */
static uint64_t fake_now;

static uint64_t fake_wall_us(void *userdata)
{
  (void)userdata;
  return fake_now;
}

static double fake_random(void *userdata)
{
  (void)userdata;
  return 0;
}

static const struct clock fake_clock = {.wall_us = fake_wall_us, .random_unit = fake_random};

#define PHONES 50

struct world {
  struct event_base *base;
  struct renewer *renewer;
  uint64_t renewed_at[PHONES]; /* the last renewal the handler made */
  unsigned renewals[PHONES];
  const char *untrack_on_due; /* a key the handler untracks when another is due */
};

static int phone_index(const char *key)
{
  int index;

  assert_int_equal(sscanf(key, "phone-%d", &index), 1);
  assert_true(index >= 0 && index < PHONES);
  return index;
}

static void on_due(const char *key, void *userdata)
{
  struct world *w = userdata;
  int index = phone_index(key);

  w->renewed_at[index] = fake_now;
  w->renewals[index]++;
  if (w->untrack_on_due && strcmp(key, w->untrack_on_due) != 0)
    renewer_untrack(w->renewer, w->untrack_on_due);
}

static int setup(void **state)
{
  struct world *w = calloc(1, sizeof *w);
  struct event_base *base = event_base_new();
  const struct renewer_options options = {
    .base = base, .clock = &fake_clock, .retry_initial_s = 1, .retry_max_s = 10};

  fake_now = 1764000000 * S;
  w->base = base;
  w->renewer = renewer_new(&options);
  renewer_start(w->renewer, &(struct renewer_handlers){.due = on_due, .userdata = w});
  *state = w;
  return 0;
}

static int teardown(void **state)
{
  struct world *w = *state;

  renewer_free(w->renewer);
  event_base_free(w->base);
  free(w);
  return 0;
}

static void track(struct world *w, int index)
{
  char key[32];

  snprintf(key, sizeof key, "phone-%d", index);
  renewer_track(w->renewer, key, fake_now);
  w->renewed_at[index] = fake_now;
}

/* Plays the timer up to `until`, checking that no phone goes unrenewed
 * for longer than the interval; returns the number of wakes. */
static unsigned play_until(struct world *w, uint64_t until, uint64_t interval, int tracked)
{
  unsigned wakes = 0;
  uint64_t wake;

  while ((wake = renewer_next_wake_us(w->renewer)) <= until) {
    assert_true(wake >= fake_now);
    fake_now = wake;
    renewer_check(w->renewer);
    wakes++;
    for (int i = 0; i < tracked; i++)
      if (fake_now - w->renewed_at[i] > interval)
        fail_msg("phone %d unrenewed for %llu s", i,
                 (unsigned long long)((fake_now - w->renewed_at[i]) / S));
  }
  fake_now = until;
  return wakes;
}

/* 50 phones attached at uneven times over an hour, with a TTL of 90
 * minutes (interval 30 min); then ten hours of the timer. */
static void test_many_phones_one_timer(void **state)
{
  struct world *w = *state;
  const uint64_t interval = 30 * 60 * S, start = fake_now;
  unsigned wakes = 0;

  renewer_set_ttl(w->renewer, 90 * 60);
  assert_int_equal(renewer_ttl_s(w->renewer), 90 * 60);
  for (int i = 0; i < PHONES; i++) {
    wakes += play_until(w, start + (uint64_t)i * 72 * S + (uint64_t)(i * 37 % 11) * S, interval, i);
    track(w, i);
  }
  wakes += play_until(w, start + 11 * 3600 * S, interval, PHONES);
  /* 11 h is 22 intervals: at most two wakes each, not one per phone */
  assert_true(wakes <= 2 * 22);
  for (int i = 0; i < PHONES; i++)
    assert_true(w->renewals[i] >= 19 && w->renewals[i] <= 44);
}

static void test_untracked_is_not_renewed(void **state)
{
  struct world *w = *state;

  renewer_set_ttl(w->renewer, 30);
  track(w, 0);
  track(w, 1);
  renewer_untrack(w->renewer, "phone-1");
  assert_false(renewer_is_tracked(w->renewer, "phone-1"));
  fake_now += 10 * S;
  renewer_check(w->renewer);
  assert_int_equal(w->renewals[0], 1);
  assert_int_equal(w->renewals[1], 0);
  renewer_untrack(w->renewer, "phone-0");
  assert_true(renewer_next_wake_us(w->renewer) == UINT64_MAX); /* nothing left: disarmed */
}

static void test_ttl_zero_and_shorter(void **state)
{
  struct world *w = *state;

  track(w, 0); /* TTL still 0: never */
  assert_true(renewer_next_wake_us(w->renewer) == UINT64_MAX);
  fake_now += 1000 * S;
  renewer_check(w->renewer);
  assert_int_equal(w->renewals[0], 0);
  renewer_set_ttl(w->renewer, 3000); /* interval 1000 s: due now */
  assert_int_equal(w->renewals[0], 1);
  assert_true(renewer_next_wake_us(w->renewer) == fake_now + 1000 * S);
  fake_now += 200 * S;
  renewer_set_ttl(w->renewer, 300); /* interval 100 s: overdue at once */
  assert_int_equal(w->renewals[0], 2);
  renewer_set_ttl(w->renewer, 0);
  assert_true(renewer_next_wake_us(w->renewer) == UINT64_MAX);
}

static void test_unknown_renewal_is_due_at_once(void **state)
{
  struct world *w = *state;

  renewer_set_ttl(w->renewer, 30);
  renewer_track(w->renewer, "phone-3", 0);
  assert_true(renewer_next_wake_us(w->renewer) <= fake_now);
  renewer_check(w->renewer);
  assert_int_equal(w->renewals[3], 1);
}

static void test_handler_may_untrack(void **state)
{
  struct world *w = *state;

  renewer_set_ttl(w->renewer, 30);
  for (int i = 0; i < 4; i++)
    track(w, i);
  fake_now += 10 * S;
  w->untrack_on_due = "phone-2"; /* gone while the others are renewed */
  renewer_check(w->renewer);
  assert_false(renewer_is_tracked(w->renewer, "phone-2"));
  assert_int_equal(w->renewals[0], 1);
  assert_int_equal(w->renewals[1], 1);
  assert_int_equal(w->renewals[3], 1);
  /* renewed only if its turn came before the first untrack */
  assert_true(w->renewals[2] <= 1);
  w->untrack_on_due = NULL;
  fake_now += 10 * S;
  renewer_check(w->renewer);
  assert_true(w->renewals[2] <= 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_plan_table),
    cmocka_unit_test_setup_teardown(test_many_phones_one_timer, setup, teardown),
    cmocka_unit_test_setup_teardown(test_untracked_is_not_renewed, setup, teardown),
    cmocka_unit_test_setup_teardown(test_ttl_zero_and_shorter, setup, teardown),
    cmocka_unit_test_setup_teardown(test_unknown_renewal_is_due_at_once, setup, teardown),
    cmocka_unit_test_setup_teardown(test_handler_may_untrack, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
