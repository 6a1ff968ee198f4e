/* libnotify, or standard output; see desktop.h. */
#include "desktop.h"

#include "log.h"

#include <glib.h>
#include <libnotify/notify.h>
#include <string.h>

#define APP_NAME "phonebind"
#define DESKTOP_ENTRY "phonebind-notify" /* the autostart file's name */
#define ICON "phone"                     /* the icon naming spec's device icon */

struct desktop {
  bool print;
  FILE *out;
};

struct desktop_note {
  NotifyNotification *notification; /* NULL when printing */
};

struct desktop *desktop_new(bool print, FILE *out)
{
  struct desktop *desktop = g_new(struct desktop, 1);

  *desktop = (struct desktop){.print = print, .out = out};
  if (!print)
    notify_init(APP_NAME);
  return desktop;
}

void desktop_free(struct desktop *desktop)
{
  if (!desktop)
    return;
  if (!desktop->print)
    notify_uninit();
  g_free(desktop);
}

bool desktop_reads_markup(struct desktop *desktop)
{
  GList *caps;
  bool markup;

  if (desktop->print)
    return false;
  caps = notify_get_server_caps();
  markup = g_list_find_custom(caps, "body-markup", (GCompareFunc)strcmp) != NULL;
  g_list_free_full(caps, g_free);
  return markup;
}

static void notify_show(struct desktop_note *note, const struct notify_message *message)
{
  GError *error = NULL;

  if (note->notification)
    notify_notification_update(note->notification, message->summary, message->body, ICON);
  else
    note->notification = notify_notification_new(message->summary, message->body, ICON);
  notify_notification_set_category(note->notification, message->category);
  notify_notification_set_hint(note->notification, "desktop-entry",
                               g_variant_new_string(DESKTOP_ENTRY));
  if (!notify_notification_show(note->notification, &error)) {
    log_warn("cannot show a notification: %s", error->message);
    g_error_free(error);
  }
}

void desktop_show(struct desktop *desktop, struct desktop_note **note,
                  const struct notify_message *message)
{
  if (!*note)
    *note = g_new0(struct desktop_note, 1);
  if (!desktop->print) {
    notify_show(*note, message);
    return;
  }
  fprintf(desktop->out, "%s: %s\n", message->summary, message->body);
  fflush(desktop->out);
}

void desktop_close(struct desktop *desktop, struct desktop_note *note)
{
  GError *error = NULL;

  (void)desktop;
  if (!note->notification || notify_notification_close(note->notification, &error))
    return;
  log_debug("cannot close a notification: %s", error->message);
  g_error_free(error);
}

void desktop_note_free(struct desktop_note *note)
{
  if (!note)
    return;
  if (note->notification)
    g_object_unref(note->notification);
  g_free(note);
}
