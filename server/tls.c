/* HTTPS for the registry; see tls.h. The context in use sits behind a
 * mutex: each new connection takes it (SSL_new holds a reference of its
 * own), and a reload swaps in a new one, so a connection keeps the
 * context it started with for its whole life and the listening socket is
 * never touched. */
#include "tls.h"

#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* TLS 1.2's suites with forward secrecy and AEAD only (TLS 1.3's own are
 * all of that already). */
#define TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"

struct tls {
  char *cert_file, *key_file;
  pthread_mutex_t lock;
  SSL_CTX *ctx; /* the one new connections get */
};

/* OpenSSL's queued errors as one line for the log; the queue is emptied. */
static void log_openssl_error(const char *what, const char *file)
{
  char reason[256] = "unknown error";
  unsigned long e, last = 0;

  while ((e = ERR_get_error()) != 0)
    last = e;
  if (last)
    ERR_error_string_n(last, reason, sizeof reason);
  log_err("cannot load TLS %s %s: %s", what, file, reason);
}

/* Says which certificate is served and until when: an expired or
 * soon-expiring one is what a person needs to hear about. */
static void log_certificate(const SSL_CTX *ctx, const char *file)
{
  X509 *cert = SSL_CTX_get0_certificate(ctx);
  const ASN1_TIME *not_after = cert ? X509_get0_notAfter(cert) : NULL;
  struct tm tm;
  char until[32] = "?";
  int days = 0, seconds = 0;

  if (not_after && ASN1_TIME_to_tm(not_after, &tm) == 1)
    strftime(until, sizeof until, "%Y-%m-%d %H:%M:%S UTC", &tm);
  if (not_after && ASN1_TIME_diff(&days, &seconds, NULL, not_after) == 1 &&
      (days < 0 || seconds < 0))
    log_warn("TLS certificate %s expired on %s: clients will refuse it", file, until);
  else if (days < 14)
    log_warn("TLS certificate %s expires on %s, in %d days", file, until, days);
  else
    log_info("TLS certificate %s, valid until %s", file, until);
}

static SSL_CTX *load_context(const char *cert_file, const char *key_file)
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

  if (!ctx) {
    log_openssl_error("context for", cert_file);
    return NULL;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  /* A peer that closes without close_notify has just closed: HTTP frames
   * its own messages, so no truncation can pass unseen. */
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
    log_openssl_error("cipher list for", cert_file);
  } else if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
    log_openssl_error("certificate", cert_file);
  } else if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
    log_openssl_error("key", key_file);
  } else if (SSL_CTX_check_private_key(ctx) != 1) {
    log_openssl_error("key (it does not match the certificate)", key_file);
  } else {
    log_certificate(ctx, cert_file);
    return ctx;
  }
  SSL_CTX_free(ctx);
  return NULL;
}

int tls_open(const char *cert_file, const char *key_file, struct tls **out_tls)
{
  struct tls *tls;
  SSL_CTX *ctx;

  *out_tls = NULL;
  if (!cert_file && !key_file)
    return 0;
  if (!cert_file || !key_file) {
    log_err("tls-cert and tls-key go together: %s is missing", cert_file ? "tls-key" : "tls-cert");
    return -EINVAL;
  }
  ctx = load_context(cert_file, key_file);
  if (!ctx)
    return -EINVAL;
  tls = xcalloc(1, sizeof *tls);
  tls->cert_file = xstrdup(cert_file);
  tls->key_file = xstrdup(key_file);
  tls->ctx = ctx;
  pthread_mutex_init(&tls->lock, NULL);
  *out_tls = tls;
  return 0;
}

int tls_reload(struct tls *tls)
{
  SSL_CTX *ctx = load_context(tls->cert_file, tls->key_file), *old;

  if (!ctx) {
    log_err("TLS reload failed: still serving the certificate loaded before");
    return -EINVAL;
  }
  pthread_mutex_lock(&tls->lock);
  old = tls->ctx;
  tls->ctx = ctx;
  pthread_mutex_unlock(&tls->lock);
  SSL_CTX_free(old); /* open connections hold references of their own */
  log_info("TLS certificate reloaded; new connections get it");
  return 0;
}

struct bufferevent *tls_new_bufferevent(struct tls *tls, struct event_base *base)
{
  struct bufferevent *bev;
  SSL *ssl;

  pthread_mutex_lock(&tls->lock);
  ssl = SSL_new(tls->ctx);
  pthread_mutex_unlock(&tls->lock);
  /* With BEV_OPT_CLOSE_ON_FREE the bufferevent frees ssl and closes the
   * fd; it frees ssl also when it cannot be made. */
  bev = ssl ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE)
            : NULL;
  /* evhttp would take NULL for "make a plain one": plain text on the
   * HTTPS port. Out of memory is fatal here, as everywhere (xalloc.h). */
  if (!bev) {
    log_err("out of memory for a TLS connection");
    abort();
  }
  bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  return bev;
}

void tls_free(struct tls *tls)
{
  if (!tls)
    return;
  SSL_CTX_free(tls->ctx);
  pthread_mutex_destroy(&tls->lock);
  free(tls->cert_file);
  free(tls->key_file);
  free(tls);
}
