/* The detection module: phones marked by the udev rule
 * (PHONEBIND_CANDIDATE=1 on a usb_device), as they come and go, and those
 * already there at start (coldplug). */
#pragma once

#include <event2/event.h>
#include <libudev.h>

struct udev_watch;

struct udev_watch_handlers {
  /* A candidate is attached (add, bind, or found by enumeration). May be
   * called again for a device already attached: be idempotent. The device
   * is borrowed for the call. */
  void (*attached)(struct udev_device *device, void *userdata);
  /* A device is gone; the syspath may belong to no terminal of ours. */
  void (*detached)(const char *syspath, void *userdata);
  /* Events were lost (ENOBUFS, or a resume from suspend): what was
   * attached before a rescan and was not reported again by it is gone.
   * Called before and after a rescan. */
  void (*rescan_begin)(void *userdata);
  void (*rescan_end)(void *userdata);
  void *userdata;
};

/* Creates the monitor first, then enumerates what is attached, so nothing
 * falls between the two. 0 or -errno. */
int udev_watch_start(struct event_base *base, const struct udev_watch_handlers *handlers,
                     struct udev_watch **out_watch);
void udev_watch_free(struct udev_watch *watch);
/* Enumerates again between rescan_begin and rescan_end; why: for the log.
 * Does nothing when watch is NULL. */
void udev_watch_rescan(struct udev_watch *watch, const char *why);
