/* Output formats; see format.h. Every string that came from a phone goes
 * through text_sanitize before it reaches a terminal; JSON escapes
 * control characters by itself. */
#include "format.h"

#include "redact.h"
#include "table.h"
#include "untrusted_text.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SGR_GREEN "\033[32m"
#define SGR_RED "\033[31m"
#define SGR_YELLOW "\033[33m"
#define SGR_DIM "\033[2m"
#define SGR_RESET "\033[0m"

struct color_of {
  const char *value, *color;
};

static const char *lookup_color(const struct color_of *colors, size_t n, const char *value)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(value, colors[i].value) == 0)
      return colors[i].color;
  return NULL;
}

/* By decision only: each reason (account-refused, releasing, ...) belongs
 * to one decision and is shown plain beside it. */
const char *ctl_decision_color(const char *decision)
{
  static const struct color_of colors[] = {
    {"connect", SGR_GREEN},    {"keep-existing", SGR_RED}, {"pending", SGR_YELLOW},
    {"unidentified", SGR_DIM}, {"released", SGR_DIM},
  };

  return lookup_color(colors, sizeof colors / sizeof *colors, decision);
}

const char *ctl_account_state_color(const char *state)
{
  static const struct color_of colors[] = {
    {"ready", SGR_GREEN},
    {"requesting", SGR_YELLOW},
    {"unreachable", SGR_YELLOW},
    {"refused", SGR_RED},
  };

  return lookup_color(colors, sizeof colors / sizeof *colors, state);
}

/* Adds key: value; a string jansson refuses (not UTF-8) goes in neutralised. */
static void json_set_string(json_t *object, const char *key, const char *value)
{
  json_t *string = json_string(value);

  if (!string) {
    _cleanup_free_ char *clean = text_sanitize(value);
    string = json_string(clean);
  }
  json_object_set_new(object, key, string);
}

static void json_print(FILE *out, json_t *json, size_t flags)
{
  json_dumpf(json, out, flags);
  fputc('\n', out);
  json_decref(json);
}

static char *shown_serial(const char *serial, const struct ctl_format *format)
{
  return format->redact ? ctl_redact(serial, CTL_REDACT_KEEP) : xstrdup(serial);
}

json_t *ctl_terminal_json(const struct ctl_terminal *t, const struct ctl_format *format,
                          size_t id_len)
{
  _cleanup_free_ char *id = ctl_shorten(t->id, id_len);
  _cleanup_free_ char *serial = shown_serial(t->serial, format);
  json_t *object = json_object();

  json_set_string(object, "id", id);
  json_set_string(object, "path", t->path);
  json_set_string(object, "vendor", t->vendor);
  json_set_string(object, "model", t->model);
  json_set_string(object, "serial", serial);
  json_object_set_new(object, "attached", json_boolean(t->attached));
  json_set_string(object, "decision", t->decision);
  json_set_string(object, "reason", t->reason);
  json_object_set_new(object, "first_seen", json_integer((json_int_t)t->first_seen));
  json_object_set_new(object, "last_seen", json_integer((json_int_t)t->last_seen));
  return object;
}

/* How many characters of the Ids to show: 0 for all of them. */
static size_t id_len_for(const struct ctl_terminal *terminals, size_t count,
                         const struct ctl_format *format, bool shorten_by_default)
{
  const char **ids;
  size_t len;

  if (format->ids == CTL_IDS_FULL || (format->ids == CTL_IDS_AUTO && !shorten_by_default))
    return 0;
  ids = xcalloc(count + 1, sizeof *ids);
  for (size_t i = 0; i < count; i++)
    ids[i] = terminals[i].id;
  len = ctl_unique_prefix_len(ids, count, CTL_SHORT_ID_LEN);
  free(ids);
  return len;
}

void ctl_print_list(FILE *out, const struct ctl_terminal *terminals, size_t count,
                    const struct ctl_format *format)
{
  static const char *const headers[] = {"ID", "DECISION", "REASON", "VENDOR", "MODEL", "SERIAL"};
  size_t id_len = id_len_for(terminals, count, format, !format->json);
  struct ctl_table *table;

  if (format->json) {
    json_t *array = json_array();
    for (size_t i = 0; i < count; i++)
      json_array_append_new(array, ctl_terminal_json(&terminals[i], format, id_len));
    json_print(out, array, JSON_INDENT(2));
    return;
  }
  table = ctl_table_new(6, headers);
  for (size_t i = 0; i < count; i++) {
    const struct ctl_terminal *t = &terminals[i];
    _cleanup_free_ char *id = ctl_shorten(t->id, id_len);
    _cleanup_free_ char *serial = shown_serial(t->serial, format);
    const char *cells[] = {id, t->decision, t->reason, t->vendor, t->model, serial};
    const char *colors[] = {NULL, ctl_decision_color(t->decision), NULL, NULL, NULL, NULL};
    ctl_table_add_row(table, cells, colors);
  }
  ctl_table_print(table, out, format->color);
  ctl_table_free(table);
  if (count == 0)
    fputs("(no phone attached)\n", out);
}

/* Local time, with the date or (monitor lines) without; "-" for unknown. */
static void format_time(int64_t seconds, bool with_date, char *buf, size_t size)
{
  time_t t = (time_t)seconds;
  struct tm tm;
  size_t n = 0;

  if (seconds > 0 && localtime_r(&t, &tm))
    n = with_date ? strftime(buf, size, "%Y-%m-%d %H:%M:%S %Z", &tm)
                  : strftime(buf, size, "%H:%M:%S", &tm);
  if (n == 0)
    snprintf(buf, size, "-");
}

/* One "     Label: value" line; the value neutralised, coloured if asked. */
static void print_field(FILE *out, const char *label, const char *value, const char *color)
{
  _cleanup_free_ char *clean = text_sanitize(*value ? value : "-");

  if (color)
    fprintf(out, "%10s: %s%s%s\n", label, color, clean, SGR_RESET);
  else
    fprintf(out, "%10s: %s\n", label, clean);
}

void ctl_print_info(FILE *out, const struct ctl_terminal *t, const struct ctl_format *format)
{
  size_t id_len = id_len_for(t, 1, format, false);
  _cleanup_free_ char *id = ctl_shorten(t->id, id_len);
  _cleanup_free_ char *serial = shown_serial(t->serial, format);
  char first[64], last[64];

  if (format->json) {
    json_print(out, ctl_terminal_json(t, format, id_len), JSON_INDENT(2));
    return;
  }
  format_time((int64_t)t->first_seen, true, first, sizeof first);
  format_time((int64_t)t->last_seen, true, last, sizeof last);
  print_field(out, "Id", id, NULL);
  print_field(out, "Path", t->path, NULL);
  print_field(out, "Vendor", t->vendor, NULL);
  print_field(out, "Model", t->model, NULL);
  print_field(out, "Serial", serial, NULL);
  print_field(out, "Attached", t->attached ? "yes" : "no", NULL);
  print_field(out, "Decision", t->decision, format->color ? ctl_decision_color(t->decision) : NULL);
  print_field(out, "Reason", t->reason, NULL);
  print_field(out, "First seen", first, NULL);
  print_field(out, "Last seen", last, NULL);
}

/* "   Account: sa-... (refused)"; no state from a daemon that does not say. */
static void print_account(FILE *out, const char *account, const char *state, bool color)
{
  _cleanup_free_ char *clean_account = text_sanitize(*account ? account : "none yet");
  _cleanup_free_ char *clean_state = text_sanitize(state);
  const char *sgr = color ? ctl_account_state_color(state) : NULL;

  if (!*state)
    fprintf(out, "%10s: %s\n", "Account", clean_account);
  else
    fprintf(out, "%10s: %s (%s%s%s)\n", "Account", clean_account, sgr ? sgr : "", clean_state,
            sgr ? SGR_RESET : "");
}

void ctl_print_status(FILE *out, const struct ctl_status *status, const struct ctl_format *format)
{
  _cleanup_free_ char *account = NULL;

  if (!status->running) {
    if (format->json)
      json_print(out, json_pack("{s:b, s:b}", "running", 0, "activatable", status->activatable),
                 JSON_INDENT(2));
    else
      fprintf(out, "phonebindd: not running%s\n",
              status->activatable ? " (D-Bus starts it on demand)" : "");
    return;
  }
  account =
    format->redact ? ctl_redact(status->account, CTL_REDACT_KEEP) : xstrdup(status->account);
  if (format->json) {
    json_t *object = json_object();
    json_object_set_new(object, "running", json_true());
    json_set_string(object, "version", status->version);
    json_set_string(object, "account", account);
    if (*status->account_state)
      json_set_string(object, "account_state", status->account_state);
    else
      json_object_set_new(object, "account_state", json_null());
    json_set_string(object, "registry", status->registry);
    json_object_set_new(object, "attached", json_integer((json_int_t)status->attached));
    json_print(out, object, JSON_INDENT(2));
    return;
  }
  fprintf(out, "phonebindd: %srunning%s\n", format->color ? SGR_GREEN : "",
          format->color ? SGR_RESET : "");
  print_field(out, "Version", status->version, NULL);
  print_account(out, account, status->account_state, format->color);
  print_field(out, "Registry", status->registry, NULL);
  fprintf(out, "%10s: %zu phone%s\n", "Attached", status->attached,
          status->attached == 1 ? "" : "s");
  if (strcmp(status->account_state, "refused") == 0)
    fputs(
      "The registry refused the account: run 'phonebindctl reset-account' (a shadow "
      "account), or replace its token file and reload phonebindd (a configured account).\n",
      out);
}

static const char *event_name(enum ctl_event_kind kind)
{
  static const char *const names[] = {
    [CTL_EVENT_ATTACHED] = "TerminalAttached",
    [CTL_EVENT_DETACHED] = "TerminalDetached",
    [CTL_EVENT_DECISION] = "Decision",
    [CTL_EVENT_DAEMON_STARTED] = "DaemonStarted",
    [CTL_EVENT_DAEMON_STOPPED] = "DaemonStopped",
  };
  return names[kind];
}

static void print_event_json(FILE *out, const struct ctl_event *event, const char *id)
{
  json_t *object = json_object();

  json_object_set_new(object, "time", json_integer((json_int_t)event->time));
  json_set_string(object, "event", event_name(event->kind));
  if (event->path) {
    json_set_string(object, "id", id);
    json_set_string(object, "path", event->path);
  }
  if (event->kind == CTL_EVENT_DECISION) {
    json_set_string(object, "decision", event->decision);
    json_set_string(object, "reason", event->reason);
  }
  json_print(out, object, JSON_COMPACT);
}

void ctl_print_event(FILE *out, const struct ctl_event *event, const struct ctl_format *format)
{
  const char *handle = event->path ? ctl_handle_of(event->path) : "";
  bool shorten = format->ids == CTL_IDS_SHORT || (format->ids == CTL_IDS_AUTO && !format->json);
  _cleanup_free_ char *id = ctl_shorten(handle, shorten ? CTL_SHORT_ID_LEN : 0);
  _cleanup_free_ char *clean_id = text_sanitize(id);
  const char *color;
  char clock[32];

  if (format->json) {
    print_event_json(out, event, id);
    return;
  }
  format_time(event->time, false, clock, sizeof clock);
  switch (event->kind) {
  case CTL_EVENT_ATTACHED:
  case CTL_EVENT_DETACHED:
    fprintf(out, "%s  %s  %s\n", clock, clean_id,
            event->kind == CTL_EVENT_ATTACHED ? "attached" : "detached");
    break;
  case CTL_EVENT_DECISION: {
    _cleanup_free_ char *decision = text_sanitize(event->decision);
    _cleanup_free_ char *reason = text_sanitize(event->reason);
    color = format->color ? ctl_decision_color(decision) : NULL;
    fprintf(out, "%s  %s  decision %s%s%s (%s)\n", clock, clean_id, color ? color : "", decision,
            color ? SGR_RESET : "", reason);
    break;
  }
  case CTL_EVENT_DAEMON_STARTED:
  case CTL_EVENT_DAEMON_STOPPED:
    fprintf(out, "%s  phonebindd %s\n", clock,
            event->kind == CTL_EVENT_DAEMON_STARTED ? "started" : "stopped");
    break;
  }
}
