/* binding-ttl in the SQLite backend (DESIGN.md "Lifecycle"): a binding
 * its owner has not renewed for longer than the TTL reads unbound to
 * everyone and any claim takes it (201); a renewal keeps it; the lapsed
 * owner's sequence stays as a tombstone, so its late requests are still
 * fenced; its DELETE finds nothing (404); a TTL of 0 never lapses.
 * Faults tried: a lapsed binding still answered bound, a takeover
 * refused, a takeover that loses the old owner's fence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "backend_fixture.h"
#include "backend_sync.h"

#define TTL_MS 60000ULL

static uint64_t wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void new_account(struct backend *be, const char *token, char out[ACCOUNT_ID_MAX])
{
  uint8_t h[HASH_SHA256_LEN];

  hash_sha256(token, strlen(token), h);
  assert_int_equal(backend_sync_create_account(be, NULL, h, 1, out), 0);
}

static enum binding_status lookup(struct backend *be, const uint8_t *t, const char *account)
{
  enum binding_status status;

  assert_int_equal(backend_sync_lookup(be, NULL, t, account, &status), 0);
  return status;
}

static enum claim_result claim(struct backend *be, const uint8_t *t, const char *account,
                               uint64_t seq, uint64_t now, uint64_t *out_seq)
{
  enum claim_result result;

  assert_int_equal(backend_sync_claim(be, NULL, t, account, seq, now, &result, out_seq), 0);
  return result;
}

static void test_lapsed_binding_is_taken(void **state)
{
  struct fixture *f = *state;
  char a[ACCOUNT_ID_MAX], b[ACCOUNT_ID_MAX];
  uint8_t t[HASH_SHA256_LEN];
  uint64_t now = wall_ms(), stored = 0;
  enum release_result release;

  backend_set_binding_ttl(f->be, TTL_MS);
  new_account(f->be, "token-a", a);
  new_account(f->be, "token-b", b);
  hash_sha256("lapsing", 7, t);
  assert_int_equal(claim(f->be, t, a, 100, now - 2 * TTL_MS, NULL), CLAIM_BOUND_NOW);
  assert_int_equal(claim(f->be, t, a, 200, now - TTL_MS - 1000, NULL), CLAIM_RENEWED);
  /* not renewed for longer than the TTL: unbound to everyone */
  assert_int_equal(lookup(f->be, t, a), BINDING_UNBOUND);
  assert_int_equal(lookup(f->be, t, b), BINDING_UNBOUND);
  /* anyone's claim takes it */
  assert_int_equal(claim(f->be, t, b, 5, now, NULL), CLAIM_BOUND_NOW);
  assert_int_equal(lookup(f->be, t, b), BINDING_BOUND_TO_YOU);
  assert_int_equal(lookup(f->be, t, a), BINDING_BOUND_TO_OTHER);
  /* the old owner's late request below its sequence is still stale */
  assert_int_equal(claim(f->be, t, a, 150, now, &stored), CLAIM_STALE);
  assert_int_equal(stored, 200);
  assert_int_equal(claim(f->be, t, a, 300, now, NULL), CLAIM_CONFLICT);
  /* renewed by b, it stays b's within the TTL */
  assert_int_equal(claim(f->be, t, b, 6, now + TTL_MS / 2, NULL), CLAIM_RENEWED);
  assert_int_equal(claim(f->be, t, a, 301, now + TTL_MS, NULL), CLAIM_CONFLICT);
  /* a lapsed binding's own DELETE finds nothing, and the lapse keeps b's
   * sequence: a stale DELETE of b is still refused */
  assert_int_equal(backend_sync_release(f->be, NULL, t, b, 3, now + 3 * TTL_MS, &release, &stored),
                   0);
  assert_int_equal(release, RELEASE_STALE);
  assert_int_equal(stored, 6);
  assert_int_equal(backend_sync_release(f->be, NULL, t, b, 7, now + 3 * TTL_MS, &release, NULL), 0);
  assert_int_equal(release, RELEASE_NOT_BOUND);
}

static void test_owner_reclaims_its_lapsed_binding(void **state)
{
  struct fixture *f = *state;
  char a[ACCOUNT_ID_MAX];
  uint8_t t[HASH_SHA256_LEN];
  uint64_t now = wall_ms();

  backend_set_binding_ttl(f->be, TTL_MS);
  new_account(f->be, "token-a", a);
  hash_sha256("mine-again", 10, t);
  assert_int_equal(claim(f->be, t, a, 10, now - 2 * TTL_MS, NULL), CLAIM_BOUND_NOW);
  assert_int_equal(claim(f->be, t, a, 11, now, NULL), CLAIM_BOUND_NOW); /* lapsed: bound anew */
  assert_int_equal(claim(f->be, t, a, 12, now + 1, NULL), CLAIM_RENEWED);
  assert_int_equal(lookup(f->be, t, a), BINDING_BOUND_TO_YOU);
}

static void test_ttl_zero_never_lapses(void **state)
{
  struct fixture *f = *state;
  char a[ACCOUNT_ID_MAX], b[ACCOUNT_ID_MAX];
  uint8_t t[HASH_SHA256_LEN];

  new_account(f->be, "token-a", a);
  new_account(f->be, "token-b", b);
  hash_sha256("forever", 7, t);
  assert_int_equal(claim(f->be, t, a, 0, 1000, NULL), CLAIM_BOUND_NOW); /* 1970 */
  assert_int_equal(lookup(f->be, t, b), BINDING_BOUND_TO_OTHER);
  assert_int_equal(claim(f->be, t, b, 0, wall_ms(), NULL), CLAIM_CONFLICT);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_lapsed_binding_is_taken, setup, teardown),
    cmocka_unit_test_setup_teardown(test_owner_reclaims_its_lapsed_binding, setup, teardown),
    cmocka_unit_test_setup_teardown(test_ttl_zero_never_lapses, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
