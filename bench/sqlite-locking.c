/* Why a running SQLite registry takes support commands over its socket
 * instead of sharing the database file with them (docs/operations.md):
 * the cost per lookup of the registry's way (one connection holding the
 * file with an exclusive lock) against the two that another process's
 * writes would need (a normal lock, taken and let go by every read
 * transaction; and with PRAGMA data_version asked each time, to notice
 * another process's commits). 20000 bindings, 400000 lookups, one thread.
 *
 *   cc -O2 bench/sqlite-locking.c -o /tmp/sqlite-locking -lsqlite3
 *   /tmp/sqlite-locking /tmp/locking.db       (the file is made afresh)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROWS 20000
#define LOOKUPS 400000

static double seconds(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void key_of(int n, unsigned char key[32])
{
  memset(key, 0, 32);
  memcpy(key, &n, sizeof n);
}

static void fill(sqlite3 *db)
{
  unsigned char key[32];
  sqlite3_stmt *insert;

  sqlite3_exec(db, "CREATE TABLE b (h BLOB PRIMARY KEY, a TEXT, r INTEGER) WITHOUT ROWID", 0, 0, 0);
  sqlite3_exec(db, "BEGIN", 0, 0, 0);
  sqlite3_prepare_v2(db, "INSERT INTO b VALUES (?1, 'sa-x', 1)", -1, &insert, 0);
  for (int i = 0; i < ROWS; i++) {
    key_of(i, key);
    sqlite3_bind_blob(insert, 1, key, 32, SQLITE_STATIC);
    sqlite3_step(insert);
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  sqlite3_exec(db, "COMMIT", 0, 0, 0);
}

static void remove_files(const char *path)
{
  char other[4096];

  unlink(path);
  snprintf(other, sizeof other, "%s-wal", path);
  unlink(other);
  snprintf(other, sizeof other, "%s-shm", path);
  unlink(other);
}

static void run(const char *path, int exclusive, int data_version)
{
  unsigned char key[32];
  sqlite3_stmt *select, *version;
  sqlite3 *db;
  long found = 0;
  double start;

  remove_files(path);
  sqlite3_open(path, &db);
  sqlite3_exec(db, exclusive ? "PRAGMA locking_mode=EXCLUSIVE" : "", 0, 0, 0);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA cache_size=-32768", 0, 0, 0);
  fill(db);
  sqlite3_prepare_v2(db, "SELECT a, r FROM b WHERE h = ?1", -1, &select, 0);
  sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &version, 0);
  start = seconds();
  for (int i = 0; i < LOOKUPS; i++) {
    if (data_version) {
      sqlite3_step(version);
      sqlite3_reset(version);
    }
    key_of(i % ROWS, key);
    sqlite3_bind_blob(select, 1, key, 32, SQLITE_STATIC);
    found += sqlite3_step(select) == SQLITE_ROW;
    sqlite3_reset(select);
  }
  printf("{\"exclusive\":%d,\"data_version\":%d,\"lookups_per_s\":%.0f,\"found\":%ld}\n", exclusive,
         data_version, LOOKUPS / (seconds() - start), found);
  sqlite3_finalize(select);
  sqlite3_finalize(version);
  sqlite3_close(db);
}

int main(int argc, char **argv)
{
  const char *path = argc > 1 ? argv[1] : "/tmp/phonebind-locking.db";

  for (int round = 0; round < 3; round++) {
    run(path, 1, 0);
    run(path, 0, 0);
    run(path, 0, 1);
  }
  remove_files(path);
  return 0;
}
