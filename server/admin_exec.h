/* One support command (phonebind-registry admin …) carried out against a
 * backend: by the command itself (PostgreSQL, or SQLite with no registry
 * running), or by a running SQLite registry that it was handed to over
 * the local socket (admin_socket.c). The answer is a JSON object and an
 * exit status; every command is logged with who ran it, what and on
 * what, never a raw terminal identifier (its keyed hash's first digits). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct account_cache;
struct backend;
struct hash_hmac_key;
struct json_t;

/* Exit statuses, for scripts. */
enum admin_exit {
  ADMIN_OK = 0,
  ADMIN_FAILED = 1,    /* the database, the key, the socket: see the message */
  ADMIN_USAGE = 2,     /* no such command, wrong operands */
  ADMIN_NOT_FOUND = 4, /* not bound, no such account */
  ADMIN_EXISTS = 5,    /* create-account: the name is taken */
};

struct admin_context {
  struct backend *backend;
  const struct hash_hmac_key *terminal_mac; /* NULL: commands on a terminal refuse */
  struct account_cache *accounts;           /* a running registry's; NULL in a one-shot command */
};

/* words[0] is the command, the rest its operands; who says who asked
 * (for the log). *out_json is set to the answer: the result, or
 * {"error": …, "message": …}. Returns an enum admin_exit. */
int admin_exec(const struct admin_context *ctx, const char *who, char *const *words, size_t count,
               struct json_t **out_json);
/* Whether the command needs the terminal-id key (it names a terminal). */
bool admin_needs_key(const char *command);
/* Whether it is one admin_exec knows (new-key is the command's own). */
bool admin_is_command(const char *command);
