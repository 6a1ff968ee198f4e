/* The PostgreSQL backend's schema, its migration at start, and the
 * statements every connection prepares. The schema is versioned like the
 * SQLite one (the same version numbers mean the same data); tables live
 * in the connection's default schema. */
#pragma once

#include <libpq-fe.h>
#include <stdint.h>

#define PG_SCHEMA_VERSION 3

/* Two-key advisory lock (a key space apart from the one-key locks that
 * claims take per terminal) held while the schema is migrated and the
 * key check value read and stored. */
#define PG_MIGRATION_LOCK_CLASS 0x70686f6e /* "phon" */
#define PG_MIGRATION_LOCK_ID 1

enum pg_statement {
  PG_LOOKUP,
  PG_CLAIM,
  PG_RELEASE,
  PG_CREATE_ACCOUNT,
  PG_FIND_ACCOUNT,
  PG_HEALTH,
  PG_PURGE_TOMBSTONES,
  PG_STATEMENT_COUNT,
};

struct pg_statement_text {
  const char *name;
  const char *sql;
  int params;
};

extern const struct pg_statement_text pg_statements[PG_STATEMENT_COUNT];

/* Under the migration lock (held by the caller): brings the schema to
 * PG_SCHEMA_VERSION, one step per version, each in its own transaction.
 * A database newer than this program knows is refused (-EPROTO). shown is
 * the database as logs may name it. */
int pg_schema_migrate(PGconn *conn, const char *shown);

/* Runs one statement without parameters on a blocking connection: 0 or
 * -EIO, logged with the server's message. */
int pg_exec(PGconn *conn, const char *sql);
