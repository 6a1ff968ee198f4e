/* phonebind-notify's rules: which decision becomes which notification,
 * one notification per phone (a later decision replaces the earlier one),
 * and a wait taken off the screen when the phone is detached. The edges
 * (bus_watch, desktop) report to it and are told what to show. */
#pragma once

#include <stdbool.h>

#include "bus_watch.h"
#include "desktop.h"

struct notifier;

struct notifier *notifier_new(struct desktop *desktop, bool show_known);
void notifier_free(struct notifier *notifier);

/* bus_watch's handlers; userdata is the notifier. */
bool notifier_wants(const char *decision, const char *reason, void *userdata);
void notifier_decided(const struct bus_decision *decision, void *userdata);
void notifier_detached(const char *path, void *userdata);
