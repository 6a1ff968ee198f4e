/* Authorization of the privileged methods (Forget, Retry): root always,
 * others when polkit says so; asynchronous, so the loop never waits on
 * polkit. No polkit on the bus means no, except for root. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

typedef void (*polkit_done_fn)(bool allowed, void *userdata);

/* done runs once: at once for root, else when polkit answers. 0 or
 * -errno (then done is not run). */
int polkit_check(sd_bus *bus, sd_bus_message *request, const char *action, polkit_done_fn done,
                 void *userdata);
