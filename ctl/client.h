/* phonebindctl's side of the D-Bus API: thin calls over sd-bus. Each
 * returns 0 or a negative errno with *error filled for the message. */
#pragma once

#include <systemd/sd-bus.h>

#include "args.h"
#include "format.h"

struct ctl_status {
  char *version, *account, *registry;
  int attached;
};

int ctl_client_open(const char *address, sd_bus **out_bus);
/* Every attached terminal with its properties; *out_terminals is owned by
 * the caller (ctl_terminal_clear each, then free). */
int ctl_client_list(sd_bus *bus, struct ctl_terminal **out_terminals, int *out_count,
                    sd_bus_error *error);
int ctl_client_status(sd_bus *bus, struct ctl_status *out_status, sd_bus_error *error);
void ctl_status_clear(struct ctl_status *status);
/* Forget or Retry on one terminal's object path. */
int ctl_client_manage(sd_bus *bus, const char *method, const char *path, sd_bus_error *error);
/* Prints events until the bus goes away or a signal stops the program. */
int ctl_client_monitor(sd_bus *bus, const struct ctl_format *format);

/* The exit code a failed call maps to. */
enum ctl_exit ctl_exit_for(int r, const sd_bus_error *error);
