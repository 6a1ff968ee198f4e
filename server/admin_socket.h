/* The running SQLite registry's local socket for support commands
 * (DATABASE-admin.sock beside its database file, as SQLite's -wal and
 * -shm are: one per database, however many registries share a
 * directory; mode 0600, for root and the registry's own user): SQLite's file is the registry's
 * alone while it runs (exclusive lock, caches no other writer can invalidate), so a command is
 * handed to it and carried out there, between its requests. One request a connection: a JSON line
 * {"words": [COMMAND, OPERAND...], "login": …} in, a JSON line {"status": N, "answer": {…}} out. */
#pragma once

#include <stddef.h>

#include "admin_exec.h"

struct admin_socket;
struct event_base;
struct json_t;

/* The socket of the database at sqlite_path; the caller frees it. */
char *admin_socket_path(const char *sqlite_path);

/* Serves path on base's loop. ctx is borrowed for the socket's life.
 * -EADDRINUSE when another process answers there. */
int admin_socket_open(struct event_base *base, const char *path, const struct admin_context *ctx,
                      struct admin_socket **out_socket);
/* Stops serving and removes the socket file. */
void admin_socket_free(struct admin_socket *socket);

/* The command's side: hands words to the registry at path. 0 and the
 * answer; -ENOENT or -ECONNREFUSED when no registry serves there (the
 * command may open the database itself then); other -errno on failure. */
int admin_socket_call(const char *path, const char *login, char *const *words, size_t count,
                      int *out_status, struct json_t **out_answer);
