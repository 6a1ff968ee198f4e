/* Output formats; see format.h. */
#include "format.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHORT_ID_LEN 8

void ctl_terminal_clear(struct ctl_terminal *terminal)
{
  free(terminal->path);
  free(terminal->id);
  free(terminal->vendor);
  free(terminal->model);
  free(terminal->serial);
  free(terminal->decision);
  free(terminal->reason);
  *terminal = (struct ctl_terminal){0};
}

char *ctl_redact(const char *serial)
{
  size_t len = strlen(serial), keep = len > 4 ? 4 : 0;
  char *masked = xstrdup(serial);

  memset(masked, '*', len - keep);
  return masked;
}

char *ctl_short_id(const char *id, bool full)
{
  return full ? xstrdup(id) : xstrndup(id, SHORT_ID_LEN);
}

int ctl_match_terminal(const struct ctl_terminal *terminals, int count, const char *wanted)
{
  size_t len = strlen(wanted);
  int found = -1;

  for (int i = 0; i < count; i++)
    if (strcmp(terminals[i].id, wanted) == 0 || strcmp(terminals[i].path, wanted) == 0)
      return i;
  if (len == 0)
    return -1;
  for (int i = 0; i < count; i++)
    if (strncmp(terminals[i].id, wanted, len) == 0) {
      if (found >= 0)
        return -2;
      found = i;
    }
  return found;
}

static char *shown_serial(const struct ctl_terminal *terminal, const struct ctl_format *format)
{
  return format->redact ? ctl_redact(terminal->serial) : xstrdup(terminal->serial);
}

void ctl_print_table(FILE *out, const struct ctl_terminal *terminals, int count,
                     const struct ctl_format *format)
{
  int id_width = format->full ? 16 : SHORT_ID_LEN;

  fprintf(out, "%-*s  %-13s  %-20s  %-24s  %s\n", id_width, "ID", "DECISION", "REASON",
          "PHONE", "SERIAL");
  for (int i = 0; i < count; i++) {
    const struct ctl_terminal *t = &terminals[i];
    _cleanup_free_ char *id = ctl_short_id(t->id, format->full);
    _cleanup_free_ char *serial = shown_serial(t, format);
    _cleanup_free_ char *phone = xasprintf("%s %s", t->vendor, t->model);
    fprintf(out, "%-*s  %-13s  %-20s  %-24.24s  %s\n", id_width, id, t->decision, t->reason,
            phone, serial);
  }
  if (count == 0)
    fprintf(out, "(no phone attached)\n");
}

static void format_time(uint64_t seconds, char *buf, size_t size)
{
  time_t t = (time_t)seconds;
  struct tm tm;

  if (seconds == 0 || !gmtime_r(&t, &tm))
    snprintf(buf, size, "-");
  else
    strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

void ctl_print_info(FILE *out, const struct ctl_terminal *terminal, const struct ctl_format *format)
{
  _cleanup_free_ char *serial = shown_serial(terminal, format);
  char first[64], last[64];

  format_time(terminal->first_seen, first, sizeof first);
  format_time(terminal->last_seen, last, sizeof last);
  fprintf(out,
          "        Id: %s\n      Path: %s\n    Vendor: %s\n     Model: %s\n    Serial: %s\n"
          "  Attached: %s\n  Decision: %s\n    Reason: %s\nFirst seen: %s\n Last seen: %s\n",
          terminal->id, terminal->path, terminal->vendor, terminal->model, serial,
          terminal->attached ? "yes" : "no", terminal->decision, terminal->reason, first, last);
}

json_t *ctl_terminal_json(const struct ctl_terminal *terminal, const struct ctl_format *format)
{
  _cleanup_free_ char *serial = shown_serial(terminal, format);

  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:I, s:I}", "id", terminal->id,
                   "path", terminal->path, "vendor", terminal->vendor, "model", terminal->model,
                   "serial", serial, "attached", terminal->attached, "decision",
                   terminal->decision, "reason", terminal->reason, "first_seen",
                   (json_int_t)terminal->first_seen, "last_seen",
                   (json_int_t)terminal->last_seen);
}
