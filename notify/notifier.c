/* Decisions to notifications; see notifier.h. */
#include "notifier.h"

#include "decision_text.h"
#include "device_name.h"
#include "log.h"

#include <glib.h>
#include <stdlib.h>

struct shown {
  struct desktop_note *note;
  bool transient; /* a wait: closed when the phone is detached */
};

struct notifier {
  struct desktop *desktop;
  bool show_known;
  GHashTable *shown; /* terminal path → struct shown */
};

static void shown_free(gpointer data)
{
  struct shown *shown = data;

  desktop_note_free(shown->note);
  g_free(shown);
}

struct notifier *notifier_new(struct desktop *desktop, bool show_known)
{
  struct notifier *notifier = g_new(struct notifier, 1);

  *notifier = (struct notifier){
    .desktop = desktop,
    .show_known = show_known,
    .shown = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, shown_free),
  };
  return notifier;
}

void notifier_free(struct notifier *notifier)
{
  if (!notifier)
    return;
  g_hash_table_destroy(notifier->shown);
  g_free(notifier);
}

bool notifier_wants(const char *decision, const char *reason, void *userdata)
{
  const struct notifier *notifier = userdata;

  return decision_text_wanted(decision, reason, notifier->show_known);
}

void notifier_decided(const struct bus_decision *decision, void *userdata)
{
  struct notifier *notifier = userdata;
  struct notify_message message;
  struct shown *shown;
  char *phone = device_name(decision->vendor, decision->model);
  bool markup = desktop_reads_markup(notifier->desktop);

  if (!decision_text_make(decision->decision, decision->reason, phone, notifier->show_known, markup,
                          &message)) {
    free(phone);
    return;
  }
  shown = g_hash_table_lookup(notifier->shown, decision->path);
  if (!shown) {
    shown = g_new0(struct shown, 1);
    g_hash_table_insert(notifier->shown, g_strdup(decision->path), shown);
  }
  desktop_show(notifier->desktop, &shown->note, &message);
  log_debug("%s: %s/%s shown: %s", decision->path, decision->decision, decision->reason,
            message.summary);
  shown->transient = message.transient;
  notify_message_clear(&message);
  free(phone);
}

void notifier_detached(const char *path, void *userdata)
{
  struct notifier *notifier = userdata;
  struct shown *shown = g_hash_table_lookup(notifier->shown, path);

  if (!shown)
    return;
  if (shown->transient)
    desktop_close(notifier->desktop, shown->note);
  g_hash_table_remove(notifier->shown, path);
}
