/* A PostgreSQL LISTEN on a connection and a thread of its own: every
 * instance hears of what another process changed (a revocation made by
 * phonebind-registry admin), so that no cache outlives it. */
#pragma once

#include <libpq-fe.h>

struct pg_listener;

/* payload of each notification on the channel; NULL after every
 * (re)connection, when notifications may have been missed meanwhile. */
typedef void pg_notified_fn(const char *payload, void *userdata);
/* A new blocking connection, or NULL (logged) when none can be had now. */
typedef PGconn *pg_connect_fn(void *userdata);

/* Starts listening from a thread of its own; connects (and reconnects,
 * with a backoff up to 2 s) through connect. NULL when the thread cannot
 * be made. */
struct pg_listener *pg_listener_start(const char *channel, pg_connect_fn *connect,
                                      void *connect_userdata, pg_notified_fn *notified,
                                      void *userdata);
void pg_listener_stop(struct pg_listener *listener);
