/* Picks a storage backend by the database URI's scheme. */
#include "backend.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

const char *backend_uri_sqlite_path(const char *uri)
{
  if (strncmp(uri, "sqlite:", 7) == 0)
    return uri + 7;
  if (strstr(uri, "://") || strncmp(uri, "postgresql:", 11) == 0)
    return NULL;
  return uri; /* a bare path means SQLite */
}

static bool is_postgresql_uri(const char *uri)
{
  return strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0;
}

int backend_open_uri(const char *uri, struct backend **out_backend)
{
  const char *path = backend_uri_sqlite_path(uri);

  if (is_postgresql_uri(uri))
    return backend_pg_ops.open(uri, out_backend);
  if (!path)
    return -EPROTONOSUPPORT;
  if (*path == '\0')
    return -EINVAL;
  return backend_sqlite_ops.open(path, out_backend);
}

void backend_answer_error(const struct backend_call *call, int error)
{
  struct backend_result result = {.error = error};

  backend_answer(call, &result);
}
