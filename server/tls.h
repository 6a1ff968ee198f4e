/* The registry's own HTTPS (--tls-cert, --tls-key): one OpenSSL context
 * for every HTTP thread, replaced whole on reload. */
#pragma once

struct bufferevent;
struct event_base;
struct tls;

/* Loads the certificate chain (PEM) and its private key. Both NULL: no
 * TLS, *out_tls NULL and 0. One without the other, or a file that will
 * not load: logged, -EINVAL (or -errno). */
int tls_open(const char *cert_file, const char *key_file, struct tls **out_tls);

/* Reads both files again (SIGHUP). Connections accepted from then on get
 * the new context; those already open keep the one they started with.
 * On failure the old context stays in use (logged, -EINVAL). Any thread. */
int tls_reload(struct tls *tls);

/* A bufferevent for evhttp_set_bevcb: TLS accepting on the fd evhttp
 * sets next, with the current context. NULL when out of memory. Any
 * thread. */
struct bufferevent *tls_new_bufferevent(struct tls *tls, struct event_base *base);

void tls_free(struct tls *tls);
