/* The SQLite backend on temporary files: claim, renew, conflict, release,
 * account uniqueness (a forced id collision is regenerated), persistence
 * across reopen, a junk file refused, a newer schema refused, and claims
 * racing from many threads of which exactly one wins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account_id.h"
#include "backend.h"

struct fixture {
  char dir[64];
  char path[96];
  struct backend *be;
};

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof *f);
  strcpy(f->dir, "/tmp/phonebind-backend-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  snprintf(f->path, sizeof f->path, "%s/registry.db", f->dir);
  assert_int_equal(backend_open_uri(f->path, &f->be), 0);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  char cmd[128];
  backend_close(f->be);
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  assert_int_equal(system(cmd), 0);
  free(f);
  return 0;
}

static void hash_of(const char *text, uint8_t out[HASH_SHA256_LEN])
{
  hash_sha256(text, strlen(text), out);
}

static void new_account(struct backend *be, const char *token, char out[ACCOUNT_ID_MAX])
{
  uint8_t h[HASH_SHA256_LEN];
  hash_of(token, h);
  assert_int_equal(be->ops->create_account(be, h, 1, out), 0);
}

static void test_claim_lifecycle(void **state)
{
  struct fixture *f = *state;
  struct backend *be = f->be;
  char a[ACCOUNT_ID_MAX], b[ACCOUNT_ID_MAX];
  uint8_t t[HASH_SHA256_LEN];
  enum binding_status status;
  enum claim_result claim;
  enum release_result release;

  new_account(be, "token-a", a);
  new_account(be, "token-b", b);
  assert_string_not_equal(a, b);
  hash_of("terminal-1", t);
  assert_int_equal(be->ops->lookup(be, t, a, &status), 0);
  assert_int_equal(status, BINDING_UNBOUND);
  assert_int_equal(be->ops->claim(be, t, a, 10, &claim), 0);
  assert_int_equal(claim, CLAIM_BOUND_NOW);
  assert_int_equal(be->ops->claim(be, t, a, 11, &claim), 0);
  assert_int_equal(claim, CLAIM_RENEWED);
  assert_int_equal(be->ops->claim(be, t, b, 12, &claim), 0);
  assert_int_equal(claim, CLAIM_CONFLICT);
  assert_int_equal(be->ops->lookup(be, t, a, &status), 0);
  assert_int_equal(status, BINDING_BOUND_TO_YOU);
  assert_int_equal(be->ops->lookup(be, t, b, &status), 0);
  assert_int_equal(status, BINDING_BOUND_TO_OTHER);
  assert_int_equal(be->ops->release(be, t, b, &release), 0);
  assert_int_equal(release, RELEASE_NOT_OWNER);
  assert_int_equal(be->ops->release(be, t, a, &release), 0);
  assert_int_equal(release, RELEASE_DONE);
  assert_int_equal(be->ops->release(be, t, a, &release), 0);
  assert_int_equal(release, RELEASE_NOT_BOUND);
  assert_int_equal(be->ops->claim(be, t, b, 13, &claim), 0);
  assert_int_equal(claim, CLAIM_BOUND_NOW);
}

static void test_find_account(void **state)
{
  struct fixture *f = *state;
  char a[ACCOUNT_ID_MAX], found[ACCOUNT_ID_MAX];
  uint8_t h[HASH_SHA256_LEN];

  new_account(f->be, "token-a", a);
  hash_of("token-a", h);
  assert_int_equal(f->be->ops->find_account(f->be, h, found), 1);
  assert_string_equal(found, a);
  hash_of("token-unknown", h);
  assert_int_equal(f->be->ops->find_account(f->be, h, found), 0);
  /* the same token hash twice is refused, not silently shared */
  hash_of("token-a", h);
  assert_int_equal(f->be->ops->create_account(f->be, h, 1, found), -EEXIST);
}

static int fixed_calls;
static int fixed_source(char out[ACCOUNT_ID_MAX])
{
  /* the first three draws collide with the first account; then a new one */
  fixed_calls++;
  snprintf(out, ACCOUNT_ID_MAX, fixed_calls <= 4 ? "sa-same" : "sa-new-%d", fixed_calls);
  return 0;
}

static void test_account_collision_regenerates(void **state)
{
  struct fixture *f = *state;
  char a[ACCOUNT_ID_MAX], b[ACCOUNT_ID_MAX];

  fixed_calls = 0;
  account_id_set_source(fixed_source);
  new_account(f->be, "token-a", a);
  new_account(f->be, "token-b", b);
  account_id_set_source(NULL);
  assert_string_equal(a, "sa-same");
  assert_string_equal(b, "sa-new-5");
  assert_int_equal(fixed_calls, 5);
}

static void test_persists_across_reopen(void **state)
{
  struct fixture *f = *state;
  char a[ACCOUNT_ID_MAX], b[ACCOUNT_ID_MAX];
  uint8_t t[HASH_SHA256_LEN];
  enum claim_result claim;
  enum binding_status status;

  new_account(f->be, "token-a", a);
  hash_of("terminal-1", t);
  assert_int_equal(f->be->ops->claim(f->be, t, a, 1, &claim), 0);
  backend_close(f->be);
  assert_int_equal(backend_open_uri(f->path, &f->be), 0);
  assert_int_equal(f->be->ops->lookup(f->be, t, a, &status), 0);
  assert_int_equal(status, BINDING_BOUND_TO_YOU);
  new_account(f->be, "token-b", b);
  assert_int_equal(f->be->ops->claim(f->be, t, b, 2, &claim), 0);
  assert_int_equal(claim, CLAIM_CONFLICT);
}

/* Reopening loads every binding into the lookup filter: none reads as
 * unbound (a false "unbound" would let a second client bind it). */
static void test_many_bindings_bound_after_reopen(void **state)
{
  struct fixture *f = *state;
  char a[ACCOUNT_ID_MAX], b[ACCOUNT_ID_MAX], name[32];
  uint8_t t[HASH_SHA256_LEN];
  enum claim_result claim;
  enum binding_status status;

  new_account(f->be, "token-a", a);
  for (int i = 0; i < 3000; i++) {
    snprintf(name, sizeof name, "terminal-%d", i);
    hash_of(name, t);
    assert_int_equal(f->be->ops->claim(f->be, t, a, 1, &claim), 0);
  }
  backend_close(f->be);
  assert_int_equal(backend_open_uri(f->path, &f->be), 0);
  new_account(f->be, "token-b", b);
  for (int i = 0; i < 3000; i++) {
    snprintf(name, sizeof name, "terminal-%d", i);
    hash_of(name, t);
    assert_int_equal(f->be->ops->lookup(f->be, t, b, &status), 0);
    assert_int_equal(status, BINDING_BOUND_TO_OTHER);
  }
}

static void test_junk_file_refused(void **state)
{
  struct fixture *f = *state;
  char path[128];
  struct backend *be = NULL;
  FILE *junk;

  snprintf(path, sizeof path, "%s/junk.db", f->dir);
  junk = fopen(path, "w");
  for (int i = 0; i < 512; i++)
    fputs("not a database, just junk bytes ", junk);
  fclose(junk);
  assert_int_equal(backend_open_uri(path, &be), -EBADMSG);
  assert_null(be);
}

static void test_newer_schema_refused(void **state)
{
  struct fixture *f = *state;
  char path[128];
  struct backend *be = NULL;
  sqlite3 *db;

  snprintf(path, sizeof path, "%s/future.db", f->dir);
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(backend_open_uri(path, &be), -EPROTO);
  assert_int_equal(backend_open_uri("postgresql://nowhere/db", &be), -EPROTONOSUPPORT);
}

#define RACERS 16

struct racer {
  struct backend *be;
  char account[ACCOUNT_ID_MAX];
  enum claim_result result;
  int r;
  pthread_barrier_t *start;
};

static void *race(void *arg)
{
  struct racer *racer = arg;
  uint8_t t[HASH_SHA256_LEN];
  hash_of("contested", t);
  pthread_barrier_wait(racer->start);
  racer->r = racer->be->ops->claim(racer->be, t, racer->account, 1, &racer->result);
  return NULL;
}

static void test_racing_claims_one_winner(void **state)
{
  struct fixture *f = *state;
  struct racer racers[RACERS];
  pthread_t threads[RACERS];
  pthread_barrier_t start;
  int winners = 0;

  pthread_barrier_init(&start, NULL, RACERS);
  for (int i = 0; i < RACERS; i++) {
    char token[32];
    snprintf(token, sizeof token, "racer-%d", i);
    racers[i] = (struct racer){.be = f->be, .start = &start};
    new_account(f->be, token, racers[i].account);
  }
  for (int i = 0; i < RACERS; i++)
    pthread_create(&threads[i], NULL, race, &racers[i]);
  for (int i = 0; i < RACERS; i++) {
    pthread_join(threads[i], NULL);
    assert_int_equal(racers[i].r, 0);
    winners += racers[i].result == CLAIM_BOUND_NOW;
    assert_true(racers[i].result != CLAIM_RENEWED);
  }
  pthread_barrier_destroy(&start);
  assert_int_equal(winners, 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_claim_lifecycle, setup, teardown),
    cmocka_unit_test_setup_teardown(test_find_account, setup, teardown),
    cmocka_unit_test_setup_teardown(test_account_collision_regenerates, setup, teardown),
    cmocka_unit_test_setup_teardown(test_persists_across_reopen, setup, teardown),
    cmocka_unit_test_setup_teardown(test_many_bindings_bound_after_reopen, setup, teardown),
    cmocka_unit_test_setup_teardown(test_junk_file_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
    cmocka_unit_test_setup_teardown(test_racing_claims_one_winner, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
