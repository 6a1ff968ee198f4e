/* Authorization of the privileged methods (Forget, Retry): root always,
 * others when polkit says so; asynchronous, so the loop never waits on
 * polkit. No polkit on the bus means no, except for root. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

enum polkit_answer {
  POLKIT_DENIED,
  POLKIT_ALLOWED,
  /* polkit would ask the user, but the caller did not allow interaction
   * (the message's ALLOW_INTERACTIVE_AUTHORIZATION flag): it may retry
   * with it set */
  POLKIT_NEEDS_INTERACTION,
};

typedef void (*polkit_done_fn)(enum polkit_answer answer, void *userdata);

/* done runs once, from the loop: for root when the bus driver has said
 * so, else when polkit answers. 0 or -errno (then done is not run). */
int polkit_check(sd_bus *bus, sd_bus_message *request, const char *action, polkit_done_fn done,
                 void *userdata);
