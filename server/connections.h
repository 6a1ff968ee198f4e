/* One HTTP thread's accepting, beside its evhttp: the bufferevent each
 * connection gets (TLS or plain), a cap on the connections open at once,
 * and a pause after an accept error (out of file descriptors) instead of
 * the busy loop a listening socket that stays readable would make.
 *
 * A connection is counted from its bufferevent's making until evhttp
 * closes it, through evhttp_connection_set_closecb: nothing else in the
 * registry may set that callback on a server connection. */
#pragma once

struct event_base;
struct evconnlistener;
struct evhttp;
struct tls;

struct connections;

/* Takes over listener's pausing and evhttp's connection making. max: the
 * connections this thread keeps open at once; beyond it the listener
 * rests (the kernel's backlog holds the rest) until one closes. tls:
 * NULL for plain HTTP. */
struct connections *connections_new(struct event_base *base, struct evhttp *http,
                                    struct evconnlistener *listener, unsigned max, struct tls *tls);

/* Before the listener goes (evhttp_del_accept_socket): never touch it
 * again. */
void connections_stop(struct connections *connections);

/* After evhttp_free (which closes the connections), before the loop's
 * event_base_free. */
void connections_free(struct connections *connections);

/* Raises the soft limit on open files (to the hard one at most) so that
 * max_connections fit with room to spare; says so when they cannot. */
void connections_reserve_fds(unsigned max_connections);
