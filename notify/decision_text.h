/* What phonebind-notify tells a person about a decision of phonebindd:
 * which decisions are worth a notification at all, and their words. Pure:
 * plain strings in, plain strings out (GLib for its strings). */
#pragma once

#include <stdbool.h>

struct notify_message {
  char *summary;        /* plain text (the spec's summary is never markup); g_free */
  char *body;           /* plain text, or escaped for the spec's body markup; g_free */
  const char *category; /* the notification spec's category: "device.added", ... */
  bool transient;       /* true only while the phone waits: closed when it is detached */
};

/* Whether a person should see this decision: every outcome that changes
 * what the phone does, and a wait that needs them or explains a delay.
 * Not connect/known (the phone connected as it always does) unless
 * show_known, not pending/releasing (the interim step of a Forget, whose
 * caller is answered; released follows), nor a decision this version
 * cannot word. */
bool decision_text_wanted(const char *decision, const char *reason, bool show_known);

/* The message about decision/reason for the phone called `phone` (a name
 * from device_name()). markup: the notification server reads the body as
 * markup (its "body-markup" capability), so the body is escaped. false,
 * and *out untouched, when nothing is to be shown (as decision_text_wanted). */
bool decision_text_make(const char *decision, const char *reason, const char *phone,
                        bool show_known, bool markup, struct notify_message *out);

void notify_message_clear(struct notify_message *message);
