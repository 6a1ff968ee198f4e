/* The SQLite backend on temporary files: claim, renew, conflict, release,
 * account uniqueness (a forced id collision is regenerated), persistence
 * across reopen, a junk file refused, a newer schema refused, claims
 * racing from many threads of which exactly one wins, the key check value
 * (stored once, never replaced by another), a version 1 database
 * (fixtures/registry-v1.sql) migrated with every binding kept, and the
 * fencing of claims and releases by sequence: every rule (a table), the
 * largest sequences, a release racing claims of the same account (no
 * claim the release overtook may bind), and tombstones purged after a
 * week, at start and at most once an hour. */
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
#include <time.h>
#include <unistd.h>

#include "account_id.h"
#include "backend.h"
#include "backend_sync.h"
#include "backend_fixture.h"

static void hash_of(const char *text, uint8_t out[HASH_SHA256_LEN])
{
  hash_sha256(text, strlen(text), out);
}

static void new_account(struct backend *be, const char *token, char out[ACCOUNT_ID_MAX])
{
  uint8_t h[HASH_SHA256_LEN];
  hash_of(token, h);
  assert_int_equal(backend_sync_create_account(be, NULL, h, 1, out), 0);
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
  assert_int_equal(backend_sync_lookup(be, NULL, t, a, &status), 0);
  assert_int_equal(status, BINDING_UNBOUND);
  assert_int_equal(backend_sync_claim(be, NULL, t, a, 0, 10, &claim, NULL), 0);
  assert_int_equal(claim, CLAIM_BOUND_NOW);
  assert_int_equal(backend_sync_claim(be, NULL, t, a, 0, 11, &claim, NULL), 0);
  assert_int_equal(claim, CLAIM_RENEWED);
  assert_int_equal(backend_sync_claim(be, NULL, t, b, 0, 12, &claim, NULL), 0);
  assert_int_equal(claim, CLAIM_CONFLICT);
  assert_int_equal(backend_sync_lookup(be, NULL, t, a, &status), 0);
  assert_int_equal(status, BINDING_BOUND_TO_YOU);
  assert_int_equal(backend_sync_lookup(be, NULL, t, b, &status), 0);
  assert_int_equal(status, BINDING_BOUND_TO_OTHER);
  assert_int_equal(backend_sync_release(be, NULL, t, b, 0, 1, &release, NULL), 0);
  assert_int_equal(release, RELEASE_NOT_OWNER);
  assert_int_equal(backend_sync_release(be, NULL, t, a, 0, 1, &release, NULL), 0);
  assert_int_equal(release, RELEASE_DONE);
  assert_int_equal(backend_sync_release(be, NULL, t, a, 0, 1, &release, NULL), 0);
  assert_int_equal(release, RELEASE_NOT_BOUND);
  assert_int_equal(backend_sync_claim(be, NULL, t, b, 0, 13, &claim, NULL), 0);
  assert_int_equal(claim, CLAIM_BOUND_NOW);
}

static void test_find_account(void **state)
{
  struct fixture *f = *state;
  char a[ACCOUNT_ID_MAX], found[ACCOUNT_ID_MAX];
  uint8_t h[HASH_SHA256_LEN];

  new_account(f->be, "token-a", a);
  hash_of("token-a", h);
  assert_int_equal(backend_sync_find_account(f->be, NULL, h, found), 1);
  assert_string_equal(found, a);
  hash_of("token-unknown", h);
  assert_int_equal(backend_sync_find_account(f->be, NULL, h, found), 0);
  /* the same token hash twice is refused, not silently shared */
  hash_of("token-a", h);
  assert_int_equal(backend_sync_create_account(f->be, NULL, h, 1, found), -EEXIST);
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
  assert_int_equal(backend_sync_claim(f->be, NULL, t, a, 0, 1, &claim, NULL), 0);
  backend_close(f->be);
  assert_int_equal(backend_open_uri(f->path, &f->be), 0);
  assert_int_equal(backend_sync_lookup(f->be, NULL, t, a, &status), 0);
  assert_int_equal(status, BINDING_BOUND_TO_YOU);
  new_account(f->be, "token-b", b);
  assert_int_equal(backend_sync_claim(f->be, NULL, t, b, 0, 2, &claim, NULL), 0);
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
    assert_int_equal(backend_sync_claim(f->be, NULL, t, a, 0, 1, &claim, NULL), 0);
  }
  backend_close(f->be);
  assert_int_equal(backend_open_uri(f->path, &f->be), 0);
  new_account(f->be, "token-b", b);
  for (int i = 0; i < 3000; i++) {
    snprintf(name, sizeof name, "terminal-%d", i);
    hash_of(name, t);
    assert_int_equal(backend_sync_lookup(f->be, NULL, t, b, &status), 0);
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
  assert_int_equal(backend_open_uri("mysql://nowhere/db", &be), -EPROTONOSUPPORT);
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
  assert_int_equal(backend_sync_claim(f->be, NULL, t, a, 0, 1, &claim, NULL), 0);
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
    assert_int_equal(backend_sync_lookup(be, NULL, t, bindings[i].owner, &status), 0);
    assert_int_equal(status, BINDING_BOUND_TO_YOU);
    assert_int_equal(backend_sync_lookup(be, NULL, t, bindings[i].other, &status), 0);
    assert_int_equal(status, BINDING_BOUND_TO_OTHER);
  }
  /* no check value yet, but bindings: the key file must not be made anew */
  assert_int_equal(be->ops->read_key_check(be, check, &keyed), 0);
  assert_true(keyed);
  backend_close(be);
  assert_int_equal(query_int(path, "PRAGMA user_version"), 3);
  assert_int_equal(query_int(path, "SELECT count(*) FROM bindings"), 3);
  assert_int_equal(query_int(path, "SELECT min(bound_at) / 1000 - 1700000000 FROM bindings"), 100);
}

enum who { NOBODY, US, THEM };
#define NO_TOMB (-1)
#define PUT true
#define DEL false

/* One request of account "us" against a terminal in a known state. */
struct fence_case {
  enum who before;
  uint64_t before_seq;   /* the binding's */
  long long before_tomb; /* our tombstone's, or NO_TOMB */
  bool put;
  uint64_t sent; /* 0: no Phonebind-Seq */
  int answer;    /* enum claim_result for a PUT, enum release_result for a DELETE */
  uint64_t stale_seq;
  enum who after;
  long long after_seq; /* the binding's, or -1 when unbound */
  long long after_tomb;
};

static const struct fence_case fence_cases[] = {
  /* PUT without the header: as before; a new binding takes our tombstone's seq */
  {NOBODY, 0, NO_TOMB, PUT, 0, CLAIM_BOUND_NOW, 0, US, 0, NO_TOMB},
  {NOBODY, 0, 5, PUT, 0, CLAIM_BOUND_NOW, 0, US, 5, NO_TOMB},
  {US, 5, NO_TOMB, PUT, 0, CLAIM_RENEWED, 0, US, 5, NO_TOMB},
  {THEM, 5, NO_TOMB, PUT, 0, CLAIM_CONFLICT, 0, THEM, 5, NO_TOMB},
  {THEM, 5, 3, PUT, 0, CLAIM_CONFLICT, 0, THEM, 5, 3},
  /* PUT, N < S: stale, nothing changes */
  {NOBODY, 0, 5, PUT, 4, CLAIM_STALE, 5, NOBODY, -1, 5},
  {US, 5, NO_TOMB, PUT, 4, CLAIM_STALE, 5, US, 5, NO_TOMB},
  {THEM, 9, 5, PUT, 4, CLAIM_STALE, 5, THEM, 9, 5},
  /* PUT, N == S: the answer it would get now, nothing changes */
  {US, 5, NO_TOMB, PUT, 5, CLAIM_RENEWED, 0, US, 5, NO_TOMB},
  {THEM, 9, 5, PUT, 5, CLAIM_CONFLICT, 0, THEM, 9, 5},
  {NOBODY, 0, 5, PUT, 5, CLAIM_STALE, 5, NOBODY, -1, 5},
  /* PUT, N > S */
  {NOBODY, 0, NO_TOMB, PUT, 6, CLAIM_BOUND_NOW, 0, US, 6, NO_TOMB},
  {NOBODY, 0, 5, PUT, 6, CLAIM_BOUND_NOW, 0, US, 6, NO_TOMB},
  {US, 5, NO_TOMB, PUT, 6, CLAIM_RENEWED, 0, US, 6, NO_TOMB},
  {THEM, 9, NO_TOMB, PUT, 6, CLAIM_CONFLICT, 0, THEM, 9, NO_TOMB},
  {THEM, 9, 5, PUT, 6, CLAIM_CONFLICT, 0, THEM, 9, 5},
  /* DELETE without the header: ours leaves a tombstone with its seq */
  {US, 5, NO_TOMB, DEL, 0, RELEASE_DONE, 0, NOBODY, -1, 5},
  {US, 0, NO_TOMB, DEL, 0, RELEASE_DONE, 0, NOBODY, -1, 0},
  {NOBODY, 0, NO_TOMB, DEL, 0, RELEASE_NOT_BOUND, 0, NOBODY, -1, NO_TOMB},
  {NOBODY, 0, 5, DEL, 0, RELEASE_NOT_BOUND, 0, NOBODY, -1, 5},
  {THEM, 9, NO_TOMB, DEL, 0, RELEASE_NOT_OWNER, 0, THEM, 9, NO_TOMB},
  /* DELETE, N < S */
  {US, 5, NO_TOMB, DEL, 4, RELEASE_STALE, 5, US, 5, NO_TOMB},
  {NOBODY, 0, 5, DEL, 4, RELEASE_STALE, 5, NOBODY, -1, 5},
  {THEM, 9, 5, DEL, 4, RELEASE_STALE, 5, THEM, 9, 5},
  /* DELETE, N == S: on our binding the equal seq was a PUT's */
  {US, 5, NO_TOMB, DEL, 5, RELEASE_STALE, 5, US, 5, NO_TOMB},
  {NOBODY, 0, 5, DEL, 5, RELEASE_NOT_BOUND, 0, NOBODY, -1, 5},
  {THEM, 9, 5, DEL, 5, RELEASE_NOT_OWNER, 0, THEM, 9, 5},
  /* DELETE, N > S: the tombstone takes N whoever holds the terminal */
  {US, 5, NO_TOMB, DEL, 6, RELEASE_DONE, 0, NOBODY, -1, 6},
  {NOBODY, 0, NO_TOMB, DEL, 6, RELEASE_NOT_BOUND, 0, NOBODY, -1, 6},
  {NOBODY, 0, 5, DEL, 6, RELEASE_NOT_BOUND, 0, NOBODY, -1, 6},
  {THEM, 9, NO_TOMB, DEL, 6, RELEASE_NOT_OWNER, 0, THEM, 9, 6},
  {THEM, 9, 5, DEL, 6, RELEASE_NOT_OWNER, 0, THEM, 9, 6},
};

static void fence_terminal(size_t i, uint8_t out[HASH_SHA256_LEN])
{
  char name[32];
  snprintf(name, sizeof name, "fence-case-%zu", i);
  hash_of(name, out);
}

static void put_state(struct backend *be, const struct fence_case *c, const uint8_t *t,
                      const char *us, const char *them)
{
  enum claim_result claim;
  enum release_result release;

  if (c->before_tomb == 0) { /* a seq 0 tombstone: our unfenced binding released */
    assert_int_equal(backend_sync_claim(be, NULL, t, us, 0, 1, &claim, NULL), 0);
    assert_int_equal(backend_sync_release(be, NULL, t, us, 0, 1, &release, NULL), 0);
  } else if (c->before_tomb > 0) {
    assert_int_equal(
      backend_sync_release(be, NULL, t, us, (uint64_t)c->before_tomb, 1, &release, NULL), 0);
    assert_int_equal(release, RELEASE_NOT_BOUND);
  }
  if (c->before != NOBODY) {
    assert_int_equal(
      backend_sync_claim(be, NULL, t, c->before == US ? us : them, c->before_seq, 1, &claim, NULL),
      0);
    assert_int_equal(claim, CLAIM_BOUND_NOW);
  }
}

/* The seq column of the row sql finds for ?1 terminal (and ?2 account), or -1. */
static long long stored_seq(sqlite3 *db, const char *sql, const uint8_t *t, const char *account)
{
  sqlite3_stmt *stmt;
  long long seq = -1;

  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
  sqlite3_bind_blob(stmt, 1, t, HASH_SHA256_LEN, SQLITE_STATIC);
  if (sqlite3_bind_parameter_count(stmt) > 1)
    sqlite3_bind_text(stmt, 2, account, -1, SQLITE_STATIC);
  if (sqlite3_step(stmt) == SQLITE_ROW)
    seq = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return seq;
}

static void test_fence_rules(void **state)
{
  static const enum binding_status status_of[] = {
    [NOBODY] = BINDING_UNBOUND, [US] = BINDING_BOUND_TO_YOU, [THEM] = BINDING_BOUND_TO_OTHER};
  const size_t count = sizeof fence_cases / sizeof *fence_cases;
  struct fixture *f = *state;
  char us[ACCOUNT_ID_MAX], them[ACCOUNT_ID_MAX];
  uint8_t t[HASH_SHA256_LEN];
  enum binding_status status;
  sqlite3 *db;

  new_account(f->be, "token-us", us);
  new_account(f->be, "token-them", them);
  for (size_t i = 0; i < count; i++) {
    const struct fence_case *c = &fence_cases[i];
    uint64_t stale = 0;
    int answer;

    fence_terminal(i, t);
    put_state(f->be, c, t, us, them);
    if (c->put) {
      enum claim_result claim;
      assert_int_equal(backend_sync_claim(f->be, NULL, t, us, c->sent, 2, &claim, &stale), 0);
      answer = (int)claim;
    } else {
      enum release_result release;
      assert_int_equal(backend_sync_release(f->be, NULL, t, us, c->sent, 2, &release, &stale), 0);
      answer = (int)release;
    }
    if (answer != c->answer)
      fail_msg("case %zu: answer %d, expected %d", i, answer, c->answer);
    if (c->stale_seq && stale != c->stale_seq)
      fail_msg("case %zu: stale seq %llu, expected %llu", i, (unsigned long long)stale,
               (unsigned long long)c->stale_seq);
    assert_int_equal(backend_sync_lookup(f->be, NULL, t, us, &status), 0);
    if (status != status_of[c->after])
      fail_msg("case %zu: status %d afterwards", i, status);
  }
  backend_close(f->be);
  f->be = NULL;
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  for (size_t i = 0; i < count; i++) {
    const struct fence_case *c = &fence_cases[i];
    long long binding, tomb;

    fence_terminal(i, t);
    binding = stored_seq(db, "SELECT seq FROM bindings WHERE terminal_hash = ?1", t, us);
    tomb = stored_seq(db, "SELECT seq FROM tombstones WHERE terminal_hash = ?1 AND account_id = ?2",
                      t, us);
    if (binding != c->after_seq || tomb != c->after_tomb)
      fail_msg("case %zu: binding seq %lld, tombstone %lld afterwards", i, binding, tomb);
  }
  sqlite3_close(db);
}

static uint64_t wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 2^64 − 1 goes through SQLite's signed integers and back (the tombstone
 * is of now: older ones are purged when the database is opened). */
static void test_largest_sequences(void **state)
{
  struct fixture *f = *state;
  char us[ACCOUNT_ID_MAX];
  uint8_t t[HASH_SHA256_LEN];
  enum claim_result claim;
  enum release_result release;
  uint64_t stored = 0, now = wall_ms();

  new_account(f->be, "token-us", us);
  hash_of("terminal-largest", t);
  assert_int_equal(backend_sync_claim(f->be, NULL, t, us, UINT64_MAX - 1, 1, &claim, NULL), 0);
  assert_int_equal(claim, CLAIM_BOUND_NOW);
  assert_int_equal(backend_sync_claim(f->be, NULL, t, us, (uint64_t)INT64_MAX, 1, &claim, &stored),
                   0);
  assert_int_equal(claim, CLAIM_STALE);
  assert_true(stored == UINT64_MAX - 1);
  assert_int_equal(backend_sync_release(f->be, NULL, t, us, UINT64_MAX, now, &release, NULL), 0);
  assert_int_equal(release, RELEASE_DONE);
  backend_close(f->be);
  assert_int_equal(backend_open_uri(f->path, &f->be), 0);
  assert_int_equal(backend_sync_claim(f->be, NULL, t, us, UINT64_MAX - 1, 1, &claim, &stored), 0);
  assert_int_equal(claim, CLAIM_STALE);
  assert_true(stored == UINT64_MAX);
  assert_int_equal(backend_sync_release(f->be, NULL, t, us, UINT64_MAX, now, &release, NULL), 0);
  assert_int_equal(release, RELEASE_NOT_BOUND);
}

#define FENCE_RACERS 12
#define FENCE_RELEASE_SEQ 6

struct fence_racer {
  struct backend *be;
  const char *account;
  uint8_t terminal[HASH_SHA256_LEN];
  uint64_t seq;
  int r;
  pthread_barrier_t *start;
};

static void *fence_race(void *arg)
{
  struct fence_racer *racer = arg;
  enum claim_result claim;
  enum release_result release;

  pthread_barrier_wait(racer->start);
  if (racer->seq == FENCE_RELEASE_SEQ)
    racer->r = backend_sync_release(racer->be, NULL, racer->terminal, racer->account, racer->seq, 1,
                                    &release, NULL);
  else
    racer->r = backend_sync_claim(racer->be, NULL, racer->terminal, racer->account, racer->seq, 1,
                                  &claim, NULL);
  return NULL;
}

/* One account's claims with seq 1..12 racing its release with seq 6: the
 * release happened, so whatever binding is left was made by a claim of a
 * higher seq. Check and write apart would let a claim that read the
 * terminal before the release write after it. */
static void test_release_racing_claims(void **state)
{
  struct fixture *f = *state;
  char us[ACCOUNT_ID_MAX], name[32];
  struct fence_racer racers[FENCE_RACERS];
  pthread_t threads[FENCE_RACERS];
  pthread_barrier_t start;
  sqlite3 *db;

  new_account(f->be, "token-us", us);
  pthread_barrier_init(&start, NULL, FENCE_RACERS);
  for (int round = 0; round < 20; round++) {
    snprintf(name, sizeof name, "raced-%d", round);
    for (int i = 0; i < FENCE_RACERS; i++) {
      racers[i] =
        (struct fence_racer){.be = f->be, .account = us, .seq = (uint64_t)i + 1, .start = &start};
      hash_of(name, racers[i].terminal);
    }
    for (int i = 0; i < FENCE_RACERS; i++)
      pthread_create(&threads[i], NULL, fence_race, &racers[i]);
    for (int i = 0; i < FENCE_RACERS; i++) {
      pthread_join(threads[i], NULL);
      assert_int_equal(racers[i].r, 0);
    }
  }
  pthread_barrier_destroy(&start);
  backend_close(f->be);
  f->be = NULL;
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  for (int round = 0; round < 20; round++) {
    uint8_t t[HASH_SHA256_LEN];
    long long binding, tomb;

    snprintf(name, sizeof name, "raced-%d", round);
    hash_of(name, t);
    binding = stored_seq(db, "SELECT seq FROM bindings WHERE terminal_hash = ?1", t, us);
    tomb = stored_seq(db, "SELECT seq FROM tombstones WHERE terminal_hash = ?1 AND account_id = ?2",
                      t, us);
    if (binding != -1 && binding <= FENCE_RELEASE_SEQ)
      fail_msg("round %d: bound with seq %lld after the release of seq %d", round, binding,
               FENCE_RELEASE_SEQ);
    if (binding == -1 && tomb < FENCE_RELEASE_SEQ)
      fail_msg("round %d: unbound with tombstone %lld", round, tomb);
  }
  sqlite3_close(db);
}

#define MINUTE_MS (60ULL * 1000)
#define DAY_MS (24ULL * 60 * MINUTE_MS)

/* A claim of seq 1 finds our tombstone (stale) or none (bound now). */
static enum claim_result probe(struct backend *be, const char *terminal, const char *account,
                               uint64_t now)
{
  uint8_t t[HASH_SHA256_LEN];
  enum claim_result claim;

  hash_of(terminal, t);
  assert_int_equal(backend_sync_claim(be, NULL, t, account, 1, now, &claim, NULL), 0);
  return claim;
}

static void tombstone(struct backend *be, const char *terminal, const char *account,
                      uint64_t released_at)
{
  uint8_t t[HASH_SHA256_LEN];
  enum release_result release;

  hash_of(terminal, t);
  assert_int_equal(backend_sync_release(be, NULL, t, account, 5, released_at, &release, NULL), 0);
}

static void test_tombstones_purged_after_a_week(void **state)
{
  struct fixture *f = *state;
  char us[ACCOUNT_ID_MAX];
  uint64_t now = wall_ms();

  new_account(f->be, "token-us", us);
  tombstone(f->be, "old", us, now - 7 * DAY_MS - 30 * MINUTE_MS);
  tombstone(f->be, "recent", us, now - 6 * DAY_MS);
  tombstone(f->be, "old-at-start", us, now - 8 * DAY_MS);
  /* the last purge was at open: none again within the hour */
  assert_int_equal(probe(f->be, "old", us, now + 10 * MINUTE_MS), CLAIM_STALE);
  /* an hour later the old one goes with the first write */
  assert_int_equal(probe(f->be, "recent", us, now + 61 * MINUTE_MS), CLAIM_STALE);
  assert_int_equal(probe(f->be, "old", us, now + 62 * MINUTE_MS), CLAIM_BOUND_NOW);
  backend_close(f->be);
  /* and at start */
  assert_int_equal(backend_open_uri(f->path, &f->be), 0);
  assert_int_equal(probe(f->be, "old-at-start", us, now), CLAIM_BOUND_NOW);
  assert_int_equal(probe(f->be, "recent", us, now), CLAIM_STALE);
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
  racer->r = backend_sync_claim(racer->be, NULL, t, racer->account, 0, 1, &racer->result, NULL);
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
    cmocka_unit_test_setup_teardown(test_fence_rules, setup, teardown),
    cmocka_unit_test_setup_teardown(test_largest_sequences, setup, teardown),
    cmocka_unit_test_setup_teardown(test_release_racing_claims, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tombstones_purged_after_a_week, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
