/* The determination module as a table: each row is a sequence of inputs
 * and what must come out of the last one — the decision, whether it is
 * announced, and the actions. Covers the claims' order (local check before
 * remote), every registry answer, failures (pending said once), confirm
 * and revoke, a refused token, a stale claim, the wait for the first
 * account, Forget (after the call in flight, never cutting it short) and
 * each way a release can end, renewal (binding-ttl), and inputs that make no sense in a phase
 * (ignored). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "decide.h"

#define MAX_INPUTS 6

struct row {
  const char *name;
  enum decide_input inputs[MAX_INPUTS];
  int count;
  enum decision decision;
  enum reason reason;
  bool announce;
  unsigned actions;
  int announcements; /* over the whole sequence */
};

/* One row a line or two, as a table reads best. */
/* clang-format off */
static const struct row rows[] = {
  {"no identifier", {INPUT_NO_IDENTIFIER}, 1, DECISION_UNIDENTIFIED, REASON_NO_IDENTIFIER, true,
   ACTION_RESET_BACKOFF, 1},
  {"local hit connects at once and confirms", {INPUT_LOCAL_HIT}, 1, DECISION_CONNECT,
   REASON_KNOWN, true, ACTION_CLAIM, 1},
  {"local miss asks the registry, announces nothing", {INPUT_LOCAL_MISS}, 1, DECISION_NONE,
   REASON_NONE, false, ACTION_LOOKUP, 0},
  {"unbound → claim", {INPUT_LOCAL_MISS, INPUT_REMOTE_UNBOUND}, 2, DECISION_NONE, REASON_NONE,
   false, ACTION_CLAIM, 0},
  {"claim 201 → new binding, recorded",
   {INPUT_LOCAL_MISS, INPUT_REMOTE_UNBOUND, INPUT_CLAIM_BOUND}, 3, DECISION_CONNECT,
   REASON_NEW_BINDING, true, ACTION_RECORD_LOCAL | ACTION_RESET_BACKOFF, 1},
  {"claim 200 after unbound → restored",
   {INPUT_LOCAL_MISS, INPUT_REMOTE_UNBOUND, INPUT_CLAIM_RENEWED}, 3, DECISION_CONNECT,
   REASON_RESTORED, true, ACTION_RECORD_LOCAL | ACTION_RESET_BACKOFF, 1},
  {"claim 409 → race lost", {INPUT_LOCAL_MISS, INPUT_REMOTE_UNBOUND, INPUT_CLAIM_CONFLICT}, 3,
   DECISION_KEEP_EXISTING, REASON_RACE_LOST, true, ACTION_RESET_BACKOFF, 1},
  {"bound to you → restored, store repaired", {INPUT_LOCAL_MISS, INPUT_REMOTE_BOUND_TO_YOU}, 2,
   DECISION_CONNECT, REASON_RESTORED, true, ACTION_RECORD_LOCAL | ACTION_RESET_BACKOFF, 1},
  {"bound to other → keep existing", {INPUT_LOCAL_MISS, INPUT_REMOTE_BOUND_TO_OTHER}, 2,
   DECISION_KEEP_EXISTING, REASON_BOUND_ELSEWHERE, true, ACTION_RESET_BACKOFF, 1},
  {"lookup fails → pending, retry", {INPUT_LOCAL_MISS, INPUT_REMOTE_FAILED}, 2, DECISION_PENDING,
   REASON_REGISTRY_UNREACHABLE, true, ACTION_SCHEDULE_RETRY, 1},
  {"retry due → lookup again", {INPUT_LOCAL_MISS, INPUT_REMOTE_FAILED, INPUT_RETRY_DUE}, 3,
   DECISION_PENDING, REASON_REGISTRY_UNREACHABLE, false, ACTION_LOOKUP, 1},
  {"second failure: pending is not said again",
   {INPUT_LOCAL_MISS, INPUT_REMOTE_FAILED, INPUT_RETRY_DUE, INPUT_REMOTE_FAILED}, 4,
   DECISION_PENDING, REASON_REGISTRY_UNREACHABLE, false, ACTION_SCHEDULE_RETRY, 1},
  {"pending then settled: exactly one more decision",
   {INPUT_LOCAL_MISS, INPUT_REMOTE_FAILED, INPUT_RETRY_DUE, INPUT_REMOTE_UNBOUND,
    INPUT_CLAIM_BOUND},
   5, DECISION_CONNECT, REASON_NEW_BINDING, true, ACTION_RECORD_LOCAL | ACTION_RESET_BACKOFF, 2},
  {"claim fails → pending", {INPUT_LOCAL_MISS, INPUT_REMOTE_UNBOUND, INPUT_REMOTE_FAILED}, 3,
   DECISION_PENDING, REASON_REGISTRY_UNREACHABLE, true, ACTION_SCHEDULE_RETRY, 1},
  {"confirm 200 is silent", {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED}, 2, DECISION_CONNECT,
   REASON_KNOWN, false, ACTION_RESET_BACKOFF, 1},
  {"confirm 409 revokes", {INPUT_LOCAL_HIT, INPUT_CLAIM_CONFLICT}, 2, DECISION_KEEP_EXISTING,
   REASON_REVOKED, true, ACTION_DROP_LOCAL | ACTION_RESET_BACKOFF, 2},
  {"confirm failure keeps the local decision, retries silently",
   {INPUT_LOCAL_HIT, INPUT_REMOTE_FAILED}, 2, DECISION_CONNECT, REASON_KNOWN, false,
   ACTION_SCHEDULE_RETRY, 1},
  {"confirm retry claims again", {INPUT_LOCAL_HIT, INPUT_REMOTE_FAILED, INPUT_RETRY_DUE}, 3,
   DECISION_CONNECT, REASON_KNOWN, false, ACTION_CLAIM, 1},
  /* renewal (binding-ttl): the confirming claim again, while connected */
  {"renewal due: a connected phone claims again, says nothing",
   {INPUT_LOCAL_MISS, INPUT_REMOTE_UNBOUND, INPUT_CLAIM_BOUND, INPUT_RENEW_DUE}, 4,
   DECISION_CONNECT, REASON_NEW_BINDING, false, ACTION_CLAIM, 1},
  {"renewal 200 is silent", {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED, INPUT_RENEW_DUE,
                             INPUT_CLAIM_RENEWED},
   4, DECISION_CONNECT, REASON_KNOWN, false, ACTION_RESET_BACKOFF, 1},
  {"renewal 409: lapsed and taken → revoked", {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED,
                                               INPUT_RENEW_DUE, INPUT_CLAIM_CONFLICT},
   4, DECISION_KEEP_EXISTING, REASON_REVOKED, true, ACTION_DROP_LOCAL | ACTION_RESET_BACKOFF, 2},
  {"renewal failure keeps connect, retries silently",
   {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED, INPUT_RENEW_DUE, INPUT_REMOTE_FAILED}, 4,
   DECISION_CONNECT, REASON_KNOWN, false, ACTION_SCHEDULE_RETRY, 1},
  {"renewal 401 → pending/account-refused",
   {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED, INPUT_RENEW_DUE, INPUT_REMOTE_REFUSED}, 4,
   DECISION_PENDING, REASON_ACCOUNT_REFUSED, true, ACTION_SCHEDULE_RETRY, 2},
  {"no renewal while a claim is in flight", {INPUT_LOCAL_HIT, INPUT_RENEW_DUE}, 2,
   DECISION_CONNECT, REASON_KNOWN, false, 0, 1},
  {"no renewal of a phone bound elsewhere",
   {INPUT_LOCAL_MISS, INPUT_REMOTE_BOUND_TO_OTHER, INPUT_RENEW_DUE}, 3,
   DECISION_KEEP_EXISTING, REASON_BOUND_ELSEWHERE, false, 0, 1},
  {"no renewal after a Forget", {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED, INPUT_FORGET,
                                 INPUT_RELEASED, INPUT_RENEW_DUE},
   5, DECISION_RELEASED, REASON_FORGOTTEN, false, 0, 2},
  {"no renewal while a release is unconfirmed",
   {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED, INPUT_FORGET, INPUT_RELEASE_UNCONFIRMED,
    INPUT_RENEW_DUE}, 5, DECISION_PENDING, REASON_RELEASING, false, 0, 2},
  /* a phone that does not trust this PC yet */
  {"not trusted yet: pending/awaiting-trust, asked again", {INPUT_AWAITING_TRUST}, 1,
   DECISION_PENDING, REASON_AWAITING_TRUST, true, ACTION_SCHEDULE_RETRY, 1},
  {"the time to ask again", {INPUT_AWAITING_TRUST, INPUT_RETRY_DUE}, 2, DECISION_PENDING,
   REASON_AWAITING_TRUST, false, ACTION_IDENTIFY, 1},
  {"still not trusted: said once", {INPUT_AWAITING_TRUST, INPUT_RETRY_DUE, INPUT_AWAITING_TRUST},
   3, DECISION_PENDING, REASON_AWAITING_TRUST, false, ACTION_SCHEDULE_RETRY, 1},
  {"trusted at last: the checks as ever",
   {INPUT_AWAITING_TRUST, INPUT_RETRY_DUE, INPUT_LOCAL_MISS, INPUT_REMOTE_UNBOUND,
    INPUT_CLAIM_BOUND},
   5, DECISION_CONNECT, REASON_NEW_BINDING, true, ACTION_RECORD_LOCAL | ACTION_RESET_BACKOFF, 2},
  {"a registry answer while waiting for trust is ignored", {INPUT_AWAITING_TRUST,
                                                            INPUT_CLAIM_BOUND},
   2, DECISION_PENDING, REASON_AWAITING_TRUST, false, 0, 1},
  /* a refused token (401) */
  {"lookup refused → pending/account-refused, retried", {INPUT_LOCAL_MISS, INPUT_REMOTE_REFUSED},
   2, DECISION_PENDING, REASON_ACCOUNT_REFUSED, true, ACTION_SCHEDULE_RETRY, 1},
  {"refused again: said once",
   {INPUT_LOCAL_MISS, INPUT_REMOTE_REFUSED, INPUT_RETRY_DUE, INPUT_REMOTE_REFUSED}, 4,
   DECISION_PENDING, REASON_ACCOUNT_REFUSED, false, ACTION_SCHEDULE_RETRY, 1},
  {"a refused confirm takes back the connect", {INPUT_LOCAL_HIT, INPUT_REMOTE_REFUSED}, 2,
   DECISION_PENDING, REASON_ACCOUNT_REFUSED, true, ACTION_SCHEDULE_RETRY, 2},
  {"after a refusal the whole check runs again",
   {INPUT_LOCAL_HIT, INPUT_REMOTE_REFUSED, INPUT_RETRY_DUE}, 3, DECISION_PENDING,
   REASON_ACCOUNT_REFUSED, false, ACTION_LOOKUP, 2},
  {"refused claim", {INPUT_LOCAL_MISS, INPUT_REMOTE_UNBOUND, INPUT_REMOTE_REFUSED}, 3,
   DECISION_PENDING, REASON_ACCOUNT_REFUSED, true, ACTION_SCHEDULE_RETRY, 1},
  /* fencing */
  {"stale claim is claimed afresh", {INPUT_LOCAL_MISS, INPUT_REMOTE_UNBOUND, INPUT_CLAIM_STALE}, 3,
   DECISION_NONE, REASON_NONE, false, ACTION_CLAIM, 0},
  {"stale confirm is claimed afresh", {INPUT_LOCAL_HIT, INPUT_CLAIM_STALE}, 2, DECISION_CONNECT,
   REASON_KNOWN, false, ACTION_CLAIM, 1},
  /* the first account */
  {"waiting for the account says nothing", {INPUT_LOCAL_MISS, INPUT_NO_ACCOUNT}, 2,
   DECISION_NONE, REASON_NONE, false, 0, 0},
  {"the account arrives: the lookup goes",
   {INPUT_LOCAL_MISS, INPUT_NO_ACCOUNT, INPUT_ACCOUNT_READY}, 3, DECISION_NONE, REASON_NONE,
   false, ACTION_LOOKUP, 0},
  {"the account arrives: the confirm goes",
   {INPUT_LOCAL_HIT, INPUT_NO_ACCOUNT, INPUT_ACCOUNT_READY}, 3, DECISION_CONNECT, REASON_KNOWN,
   false, ACTION_CLAIM, 1},
  {"no account to be had → pending", {INPUT_LOCAL_MISS, INPUT_NO_ACCOUNT, INPUT_REMOTE_FAILED},
   3, DECISION_PENDING, REASON_REGISTRY_UNREACHABLE, true, ACTION_SCHEDULE_RETRY, 1},
  {"a stray retry while waiting for the account is ignored",
   {INPUT_LOCAL_MISS, INPUT_NO_ACCOUNT, INPUT_RETRY_DUE}, 3, DECISION_NONE, REASON_NONE, false,
   0, 0},
  /* Retry */
  {"retry of a settled phone starts afresh", {INPUT_LOCAL_MISS, INPUT_REMOTE_BOUND_TO_OTHER,
                                              INPUT_RECHECK},
   3, DECISION_KEEP_EXISTING, REASON_BOUND_ELSEWHERE, false, ACTION_CANCEL_RETRY | ACTION_RECHECK,
   1},
  {"retry during a lookup drops it", {INPUT_LOCAL_MISS, INPUT_RECHECK}, 2, DECISION_NONE,
   REASON_NONE, false, ACTION_CANCEL_RETRY | ACTION_RECHECK, 0},
  {"retry during a claim waits for its answer",
   {INPUT_LOCAL_MISS, INPUT_REMOTE_UNBOUND, INPUT_RECHECK}, 3, DECISION_NONE, REASON_NONE, false,
   0, 0},
  {"... then starts afresh", {INPUT_LOCAL_MISS, INPUT_REMOTE_UNBOUND, INPUT_RECHECK,
                              INPUT_CLAIM_BOUND},
   4, DECISION_CONNECT, REASON_NEW_BINDING, true,
   ACTION_RECORD_LOCAL | ACTION_RESET_BACKOFF | ACTION_CANCEL_RETRY | ACTION_RECHECK, 1},
  {"... also after a failure, with no retry of its own",
   {INPUT_LOCAL_HIT, INPUT_RECHECK, INPUT_REMOTE_FAILED}, 3, DECISION_CONNECT, REASON_KNOWN,
   false, ACTION_CANCEL_RETRY | ACTION_RECHECK, 1},
  {"retry then forget during a claim: the release wins, no check afterwards",
   {INPUT_LOCAL_HIT, INPUT_RECHECK, INPUT_FORGET, INPUT_CLAIM_RENEWED, INPUT_RELEASED}, 5,
   DECISION_RELEASED, REASON_FORGOTTEN, true, ACTION_RESET_BACKOFF, 2},
  {"retry while releasing changes nothing", {INPUT_RELEASE_PENDING, INPUT_RECHECK}, 2,
   DECISION_PENDING, REASON_RELEASING, false, 0, 1},
  /* Forget */
  {"forget a settled phone: release", {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED, INPUT_FORGET}, 3,
   DECISION_CONNECT, REASON_KNOWN, false, ACTION_CANCEL_RETRY | ACTION_RELEASE, 1},
  {"forget while a retry is scheduled: cancel it, release",
   {INPUT_LOCAL_HIT, INPUT_REMOTE_FAILED, INPUT_FORGET}, 3, DECISION_CONNECT, REASON_KNOWN, false,
   ACTION_CANCEL_RETRY | ACTION_RELEASE, 1},
  {"forget during the confirm waits for its answer", {INPUT_LOCAL_HIT, INPUT_FORGET}, 2,
   DECISION_CONNECT, REASON_KNOWN, false, 0, 1},
  {"... then releases", {INPUT_LOCAL_HIT, INPUT_FORGET, INPUT_CLAIM_RENEWED}, 3, DECISION_CONNECT,
   REASON_KNOWN, false, ACTION_RESET_BACKOFF | ACTION_CANCEL_RETRY | ACTION_RELEASE, 1},
  {"... and does not retry a failed confirm", {INPUT_LOCAL_HIT, INPUT_FORGET, INPUT_REMOTE_FAILED},
   3, DECISION_CONNECT, REASON_KNOWN, false, ACTION_CANCEL_RETRY | ACTION_RELEASE, 1},
  {"forget during a lookup: no claim after unbound",
   {INPUT_LOCAL_MISS, INPUT_FORGET, INPUT_REMOTE_UNBOUND}, 3, DECISION_NONE, REASON_NONE, false,
   ACTION_CANCEL_RETRY | ACTION_RELEASE, 0},
  {"forget during a claim: its 201 is said, then released",
   {INPUT_LOCAL_MISS, INPUT_REMOTE_UNBOUND, INPUT_FORGET, INPUT_CLAIM_BOUND}, 4, DECISION_CONNECT,
   REASON_NEW_BINDING, true,
   ACTION_RECORD_LOCAL | ACTION_RESET_BACKOFF | ACTION_CANCEL_RETRY | ACTION_RELEASE, 1},
  {"a stale answer during a Forget is not claimed again",
   {INPUT_LOCAL_HIT, INPUT_FORGET, INPUT_CLAIM_STALE}, 3, DECISION_CONNECT, REASON_KNOWN, false,
   ACTION_CANCEL_RETRY | ACTION_RELEASE, 1},
  {"released", {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED, INPUT_FORGET, INPUT_RELEASED}, 4,
   DECISION_RELEASED, REASON_FORGOTTEN, true, ACTION_RESET_BACKOFF, 2},
  {"another client holds it", {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED, INPUT_FORGET,
                                INPUT_RELEASE_TAKEN},
   4, DECISION_KEEP_EXISTING, REASON_BOUND_ELSEWHERE, true, ACTION_RESET_BACKOFF, 2},
  {"certainly not done: as before, silently",
   {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED, INPUT_FORGET, INPUT_RELEASE_NOT_DONE}, 4,
   DECISION_CONNECT, REASON_KNOWN, false, 0, 1},
  {"not done while a retry was due: it is scheduled again",
   {INPUT_LOCAL_HIT, INPUT_REMOTE_FAILED, INPUT_FORGET, INPUT_RELEASE_NOT_DONE}, 4,
   DECISION_CONNECT, REASON_KNOWN, false, ACTION_SCHEDULE_RETRY, 1},
  {"a Forget that is not done can be retried", {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED,
                                                INPUT_FORGET, INPUT_RELEASE_NOT_DONE,
                                                INPUT_FORGET},
   5, DECISION_CONNECT, REASON_KNOWN, false, ACTION_CANCEL_RETRY | ACTION_RELEASE, 1},
  {"answer lost: pending/releasing", {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED, INPUT_FORGET,
                                      INPUT_RELEASE_UNCONFIRMED},
   4, DECISION_PENDING, REASON_RELEASING, true, 0, 2},
  {"... nothing claimed meanwhile", {INPUT_LOCAL_HIT, INPUT_FORGET, INPUT_CLAIM_RENEWED,
                                     INPUT_RELEASE_UNCONFIRMED, INPUT_RETRY_DUE,
                                     INPUT_CLAIM_BOUND},
   6, DECISION_PENDING, REASON_RELEASING, false, 0, 2},
  {"... a second Forget changes nothing", {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED, INPUT_FORGET,
                                           INPUT_RELEASE_UNCONFIRMED, INPUT_FORGET},
   5, DECISION_PENDING, REASON_RELEASING, false, 0, 2},
  {"... until settled: released", {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED, INPUT_FORGET,
                                   INPUT_RELEASE_UNCONFIRMED, INPUT_RELEASED},
   5, DECISION_RELEASED, REASON_FORGOTTEN, true, ACTION_RESET_BACKOFF, 3},
  {"a release dropped with its account: released, as asked", {INPUT_RELEASE_PENDING,
                                                              INPUT_RELEASE_DROPPED},
   2, DECISION_RELEASED, REASON_FORGOTTEN, true, ACTION_RESET_BACKOFF, 2},
  {"a release pending at attach: pending/releasing, no check", {INPUT_RELEASE_PENDING}, 1,
   DECISION_PENDING, REASON_RELEASING, true, 0, 1},
  {"... then settled", {INPUT_RELEASE_PENDING, INPUT_RELEASED}, 2, DECISION_RELEASED,
   REASON_FORGOTTEN, true, ACTION_RESET_BACKOFF, 2},
  {"a Forget after released releases again (harmless)",
   {INPUT_LOCAL_HIT, INPUT_CLAIM_RENEWED, INPUT_FORGET, INPUT_RELEASED, INPUT_FORGET}, 5,
   DECISION_RELEASED, REASON_FORGOTTEN, false, ACTION_CANCEL_RETRY | ACTION_RELEASE, 2},
  {"settled ignores stray answers", {INPUT_LOCAL_MISS, INPUT_REMOTE_BOUND_TO_OTHER,
                                     INPUT_CLAIM_BOUND, INPUT_RETRY_DUE},
   4, DECISION_KEEP_EXISTING, REASON_BOUND_ELSEWHERE, false, 0, 1},
  {"a claim answer while looking up is ignored", {INPUT_LOCAL_MISS, INPUT_CLAIM_BOUND}, 2,
   DECISION_NONE, REASON_NONE, false, 0, 0},
};
/* clang-format on */

static void test_table(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    const struct row *row = &rows[i];
    struct decide_state st;
    struct decide_output out = {0};
    int announcements = 0;

    decide_init(&st);
    for (int j = 0; j < row->count; j++) {
      decide_step(&st, row->inputs[j], &out);
      announcements += out.announce;
    }
    if (st.decision != row->decision || st.reason != row->reason || out.announce != row->announce ||
        out.actions != row->actions || announcements != row->announcements)
      fail_msg("row \"%s\": got %s/%s announce=%d actions=%#x announcements=%d", row->name,
               decision_name(st.decision), reason_name(st.reason), out.announce, out.actions,
               announcements);
  }
}

static void test_names(void **state)
{
  (void)state;
  assert_string_equal(decision_name(DECISION_KEEP_EXISTING), "keep-existing");
  assert_string_equal(reason_name(REASON_REGISTRY_UNREACHABLE), "registry-unreachable");
  assert_string_equal(reason_name(REASON_BOUND_ELSEWHERE), "bound-elsewhere");
  assert_string_equal(reason_name(REASON_RACE_LOST), "race-lost");
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_table), cmocka_unit_test(test_names)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
