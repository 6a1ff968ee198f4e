/* stderr logging with journald priority prefixes; see log.h. */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *log_progname = "phonebind";
static int log_max_level = LOG_INFO;
static int log_to_journal;

static const char *const level_names[] = {
  [LOG_EMERG] = "emerg",     [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "error",
  [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_init(const char *progname)
{
  const char *level = getenv("PHONEBIND_LOG_LEVEL");

  log_progname = progname;
  log_to_journal = getenv("JOURNAL_STREAM") != NULL;
  if (level && log_level_from_name(level) >= 0)
    log_max_level = log_level_from_name(level);
}

void log_set_max_level(int level)
{
  log_max_level = level;
}

int log_get_max_level(void)
{
  return log_max_level;
}

int log_level_from_name(const char *name)
{
  for (int i = 0; i <= LOG_DEBUG; i++)
    if (strcasecmp(name, level_names[i]) == 0)
      return i;
  if (strcasecmp(name, "err") == 0)
    return LOG_ERR;
  if (strcasecmp(name, "warn") == 0)
    return LOG_WARNING;
  return -1;
}

void log_vmsg(int level, const char *fmt, va_list ap)
{
  char line[1024];

  if (level > log_max_level)
    return;
  vsnprintf(line, sizeof line, fmt, ap);
  if (log_to_journal)
    fprintf(stderr, "<%d>%s\n", level, line);
  else if (level == LOG_INFO || level == LOG_NOTICE)
    fprintf(stderr, "%s: %s\n", log_progname, line);
  else
    fprintf(stderr, "%s: %s: %s\n", log_progname, level_names[level], line);
}

void log_msg(int level, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  log_vmsg(level, fmt, ap);
  va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
  va_list ap;

  fprintf(stderr, "%s: ", log_progname);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}
