/* The words of phonebind-notify; see decision_text.h. One table: a row per
 * decision and reason, and a row with reason NULL for a reason of that
 * decision this version does not know yet (the daemon may add reasons). */
#include "decision_text.h"

#include <glib.h>
#include <string.h>

#define PHONE "{phone}" /* where the phone's name goes */

struct text_row {
  const char *decision, *reason; /* reason NULL: any other reason */
  const char *summary, *body, *category;
  bool transient;
};

static const struct text_row rows[] = {
  {"connect", "new-binding", PHONE " connected to this PC",
   "It is bound to this PC now and connects here from now on.", "device.added", false},
  {"connect", "restored", PHONE " connected to this PC",
   "The registry still had it bound to this PC.", "device.added", false},
  {"connect", "known", PHONE " connected to this PC", "It was bound to this PC before.",
   "device.added", false},
  {"connect", NULL, PHONE " connected to this PC", "It is bound to this PC.", "device.added",
   false},
  {"keep-existing", "bound-elsewhere", PHONE " belongs to another PC",
   "It stays bound to the PC it was bound to first and is not connected here. "
   "Release it there (phonebindctl forget) to use it on this PC.",
   "device.error", false},
  {"keep-existing", "race-lost", PHONE " belongs to another PC",
   "Another PC bound it at the same moment. It is not connected here.", "device.error", false},
  {"keep-existing", "revoked", PHONE " belongs to another PC now",
   "It was bound to this PC, but the registry has it bound to another PC. "
   "It is no longer connected here.",
   "device.error", false},
  {"keep-existing", NULL, PHONE " belongs to another PC", "It is not connected here.",
   "device.error", false},
  {"pending", "registry-unreachable", "Waiting for the registry",
   PHONE " connects once the registry can be asked whether it belongs to another PC. "
         "phonebind keeps trying.",
   "device", true},
  {"pending", "awaiting-trust", "Unlock the phone and accept 'Trust this computer'",
   PHONE " has not trusted this PC yet, so it cannot be identified. "
         "(On Android, allow USB debugging.)",
   "device", true},
  {"pending", "account-refused", PHONE " cannot be bound now",
   "The registry refused this PC's account. An administrator can see why with "
   "phonebindctl status.",
   "device.error", true},
  {"pending", NULL, PHONE " is not connected yet", "phonebind is still deciding.", "device", true},
  {"unidentified", NULL, PHONE " cannot be bound",
   "It reports neither a usable serial number nor an IMEI, so it cannot be told apart "
   "from other phones. It is not connected.",
   "device.error", false},
  {"released", NULL, PHONE " released from this PC",
   "Its binding is gone. It is not connected until it is plugged in again.", "device", false},
};

/* The row for decision/reason; NULL for a decision without words, and
 * for those decision_text_wanted leaves out. */
static const struct text_row *find_row(const char *decision, const char *reason, bool show_known)
{
  const struct text_row *fallback = NULL;

  if (!decision || !reason)
    return NULL;
  if (strcmp(decision, "pending") == 0 && strcmp(reason, "releasing") == 0)
    return NULL;
  if (strcmp(decision, "connect") == 0 && strcmp(reason, "known") == 0 && !show_known)
    return NULL;
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    if (strcmp(rows[i].decision, decision) != 0)
      continue;
    if (!rows[i].reason)
      fallback = &rows[i];
    else if (strcmp(rows[i].reason, reason) == 0)
      return &rows[i];
  }
  return fallback;
}

bool decision_text_wanted(const char *decision, const char *reason, bool show_known)
{
  return find_row(decision, reason, show_known) != NULL;
}

/* text with every PHONE replaced by phone. */
static char *fill(const char *text, const char *phone)
{
  GString *out = g_string_new(NULL);
  const char *at;

  while ((at = strstr(text, PHONE))) {
    g_string_append_len(out, text, at - text);
    g_string_append(out, phone);
    text = at + strlen(PHONE);
  }
  g_string_append(out, text);
  return g_string_free(out, FALSE);
}

/* text escaped for the body markup of the notification spec: only the
 * three characters markup gives a meaning to in text. (GLib's escaping
 * writes "&apos;", which not every server's markup knows.) */
static char *escape_markup(const char *text)
{
  GString *out = g_string_new(NULL);

  for (; *text; text++) {
    if (*text == '&')
      g_string_append(out, "&amp;");
    else if (*text == '<')
      g_string_append(out, "&lt;");
    else if (*text == '>')
      g_string_append(out, "&gt;");
    else
      g_string_append_c(out, *text);
  }
  return g_string_free(out, FALSE);
}

bool decision_text_make(const char *decision, const char *reason, const char *phone,
                        bool show_known, bool markup, struct notify_message *out)
{
  const struct text_row *row = find_row(decision, reason, show_known);
  char *body;

  if (!row)
    return false;
  body = fill(row->body, phone);
  if (markup) {
    char *escaped = escape_markup(body);
    g_free(body);
    body = escaped;
  }
  *out = (struct notify_message){
    .summary = fill(row->summary, phone),
    .body = body,
    .category = row->category,
    .transient = row->transient,
  };
  return true;
}

void notify_message_clear(struct notify_message *message)
{
  g_free(message->summary);
  g_free(message->body);
  *message = (struct notify_message){0};
}
