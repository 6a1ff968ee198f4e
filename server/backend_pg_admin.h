/* What the PostgreSQL backend's support requests (backend_pg_admin.c)
 * need of the backend (backend_pg.c). Private to the two. */
#pragma once

#include <libpq-fe.h>
#include <stdint.h>

#include "backend.h"

/* A new blocking connection with the backend's settings; NULL (logged)
 * when the database cannot be reached. The caller PQfinish()es it. */
PGconn *backend_pg_connect(struct backend *backend);
/* binding-ttl, as set_binding_ttl set it; 0: never. */
uint64_t backend_pg_binding_ttl_ms(const struct backend *backend);

extern const struct backend_admin_ops backend_pg_admin_ops;
