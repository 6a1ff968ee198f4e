/* The SQLite backend on temporary files: claim, renew, conflict, release,
 * account uniqueness (a forced id collision is regenerated), persistence
 * across reopen, a junk file refused, a newer schema refused, claims
 * racing from many threads of which exactly one wins, the key check value
 * (stored once, never replaced by another), and a version 1 database
 * (fixtures/registry-v1.sql) migrated with every binding kept. */
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
#include "backend_fixture.h"

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

static void test_key_check_value(void **state)
{
  struct fixture *f = *state;
  uint8_t check[HASH_SHA256_LEN], other[HASH_SHA256_LEN], read[HASH_SHA256_LEN];
  char a[ACCOUNT_ID_MAX];
  uint8_t t[HASH_SHA256_LEN];
  enum claim_result claim;
  bool keyed = true;

  hash_of("check", check);
  hash_of("another check", other);
  assert_int_equal(f->be->ops->read_key_check(f->be, read, &keyed), 0);
  assert_false(keyed);
  assert_int_equal(f->be->ops->store_key_check(f->be, check), 0);
  assert_int_equal(f->be->ops->store_key_check(f->be, check), 0);
  assert_int_equal(f->be->ops->store_key_check(f->be, other), -EKEYREJECTED);
  new_account(f->be, "token-a", a);
  hash_of("terminal-1", t);
  assert_int_equal(f->be->ops->claim(f->be, t, a, 1, &claim), 0);
  backend_close(f->be);
  assert_int_equal(backend_open_uri(f->path, &f->be), 0);
  assert_int_equal(f->be->ops->read_key_check(f->be, read, &keyed), 1);
  assert_memory_equal(read, check, sizeof check);
  assert_true(keyed);
}

static char *read_fixture(const char *name)
{
  char path[512];
  FILE *file;
  char *text = calloc(1, 1 << 16);
  size_t len;

  snprintf(path, sizeof path, "%s/%s", REGISTRY_FIXTURES, name);
  file = fopen(path, "r");
  assert_non_null(file);
  len = fread(text, 1, (1 << 16) - 1, file);
  assert_true(len > 0 && len < (1 << 16) - 1);
  fclose(file);
  return text;
}

static int query_int(const char *path, const char *sql)
{
  sqlite3 *db;
  sqlite3_stmt *stmt;
  int value;

  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
  value = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

/* Every binding of the fixture answers to its owner as before. */
static void test_migrates_version_1(void **state)
{
  static const struct {
    const char *terminal, *owner, *other;
  } bindings[] = {
    {"usb:18d1:R58M41V1ONE", "sa-v1-alice", "sa-v1-bob"},
    {"imei:490154203237518", "sa-v1-alice", "sa-v1-bob"},
    {"usb:04e8:RF8N20V1BOB", "sa-v1-bob", "sa-v1-alice"},
  };
  struct fixture *f = *state;
  char path[128], *sql = read_fixture("registry-v1.sql");
  uint8_t key[32], t[HASH_SHA256_LEN], check[HASH_SHA256_LEN];
  struct backend *be = NULL;
  enum binding_status status;
  bool keyed = false;
  sqlite3 *db;

  snprintf(path, sizeof path, "%s/v1.db", f->dir);
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  free(sql);
  assert_int_equal(backend_open_uri(path, &be), 0);
  for (int i = 0; i < 32; i++)
    key[i] = (uint8_t)(0x40 + i);
  for (size_t i = 0; i < sizeof bindings / sizeof *bindings; i++) {
    hash_hmac_sha256(key, sizeof key, bindings[i].terminal, strlen(bindings[i].terminal), t);
    assert_int_equal(be->ops->lookup(be, t, bindings[i].owner, &status), 0);
    assert_int_equal(status, BINDING_BOUND_TO_YOU);
    assert_int_equal(be->ops->lookup(be, t, bindings[i].other, &status), 0);
    assert_int_equal(status, BINDING_BOUND_TO_OTHER);
  }
  /* no check value yet, but bindings: the key file must not be made anew */
  assert_int_equal(be->ops->read_key_check(be, check, &keyed), 0);
  assert_true(keyed);
  backend_close(be);
  assert_int_equal(query_int(path, "PRAGMA user_version"), 2);
  assert_int_equal(query_int(path, "SELECT count(*) FROM bindings"), 3);
  assert_int_equal(query_int(path, "SELECT min(bound_at) / 1000 - 1700000000 FROM bindings"), 100);
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
    cmocka_unit_test_setup_teardown(test_key_check_value, setup, teardown),
    cmocka_unit_test_setup_teardown(test_migrates_version_1, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
