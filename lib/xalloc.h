/* Allocation helpers that abort on out-of-memory. The daemons use them
 * everywhere, as tmux and smtpd do: a system service that cannot get a few
 * bytes has no useful way to go on, and checked-everywhere NULLs would
 * double the code without making it safer. Library-style code that must
 * report ENOMEM uses plain malloc. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Frees *ptr at scope exit: `_cleanup_free_ char *s = xstrdup(...)`. */
void freep(void *ptr);
#define _cleanup_free_ __attribute__((cleanup(freep)))
