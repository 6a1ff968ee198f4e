/* What phonebindctl learns from phonebindd: plain records filled by the
 * D-Bus calls (client.c, monitor.c) and printed by format.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One org.phonebind1.Terminal object; every string is set ("" when the
 * daemon did not say). */
struct ctl_terminal {
  char *path, *id, *vendor, *model, *serial, *decision, *reason;
  bool attached;
  uint64_t first_seen, last_seen; /* Unix seconds, 0 unknown */
};

/* The Manager's properties, or why there are none. */
struct ctl_status {
  bool running;
  bool activatable; /* not running, but D-Bus would start it on demand */
  char *version, *account, *registry;
  char *account_state; /* ready, requesting, refused, unreachable; "" not said (older daemon) */
  size_t attached;
};

enum ctl_event_kind {
  CTL_EVENT_ATTACHED,
  CTL_EVENT_DETACHED,
  CTL_EVENT_DECISION,
  CTL_EVENT_DAEMON_STARTED,
  CTL_EVENT_DAEMON_STOPPED,
};

/* One line of `monitor`; the strings are borrowed from the D-Bus message. */
struct ctl_event {
  enum ctl_event_kind kind;
  const char *path;              /* terminal events */
  const char *decision, *reason; /* CTL_EVENT_DECISION */
  int64_t time;                  /* Unix seconds, when it was received */
};

void ctl_terminal_clear(struct ctl_terminal *terminal);
void ctl_terminals_free(struct ctl_terminal *terminals, size_t count);
void ctl_status_clear(struct ctl_status *status);
/* Orders terminals by Id, so that lists read the same on every call. */
void ctl_terminals_sort(struct ctl_terminal *terminals, size_t count);

/* The handle at the end of a terminal's object path. */
const char *ctl_handle_of(const char *path);
