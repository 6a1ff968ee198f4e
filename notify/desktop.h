/* Where phonebind-notify's messages go: desktop notifications through
 * libnotify (the notification server on the session bus), or, for scripts
 * and the demo, lines on standard output. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "decision_text.h"

struct desktop;
struct desktop_note; /* one notification on screen */

/* print: lines "SUMMARY: BODY" on out instead of notifications. */
struct desktop *desktop_new(bool print, FILE *out);
void desktop_free(struct desktop *desktop);

/* Whether bodies are to be escaped as markup: the notification server
 * says it reads markup in bodies ("body-markup"). Asked each time: the
 * server may be another one by now. */
bool desktop_reads_markup(struct desktop *desktop);

/* Shows message; an earlier *note is replaced on screen (the same
 * notification, updated), else *note becomes a new one. Failures are
 * logged: a missing notification server is no reason to stop. */
void desktop_show(struct desktop *desktop, struct desktop_note **note,
                  const struct notify_message *message);

/* Takes the notification off the screen. */
void desktop_close(struct desktop *desktop, struct desktop_note *note);

/* Forgets note (it stays on screen until the server or the person closes it). */
void desktop_note_free(struct desktop_note *note);
