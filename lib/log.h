/* Logging for all phonebind programs: one line per event on stderr.
 * Under systemd (JOURNAL_STREAM set) lines carry sd-daemon "<N>" priority
 * prefixes so journald files them at the right level; on a terminal they
 * read "prog: level: message". */
#pragma once

#include <stdarg.h>
#include <syslog.h>

void log_init(const char *progname);
void log_set_max_level(int level);
int log_get_max_level(void);
int log_level_from_name(const char *name);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Print "prog: message" and exit(1): for start-up errors a person must fix. */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
