/* The detection module: phones marked by the udev rule
 * (PHONEBIND_CANDIDATE=1 on a usb_device), as they come and go, and those
 * already there at start (coldplug). The udev edge: what the device says
 * is read here into a struct phone_info; nothing else sees libudev. */
#pragma once

#include <event2/event.h>

#include "identify.h"

struct udev_watch;

struct udev_watch_handlers {
  /* A candidate is attached (add, bind, or found by enumeration). May be
   * called again for a device already attached: be idempotent. info is
   * borrowed for the call. */
  void (*attached)(const char *syspath, const struct phone_info *info, void *userdata);
  /* A device is gone; the syspath may belong to no terminal of ours. */
  void (*detached)(const char *syspath, void *userdata);
  /* Events were lost (ENOBUFS, or a resume from suspend): what was
   * attached before a rescan and was not reported again by it is gone.
   * Called before and after a rescan. */
  void (*rescan_begin)(void *userdata);
  void (*rescan_end)(void *userdata);
  void *userdata;
};

/* Creates the monitor; its events are read once the loop runs. 0 or -errno. */
int udev_watch_new(struct event_base *base, const struct udev_watch_handlers *handlers,
                   struct udev_watch **out_watch);
/* The coldplug: what is attached now. Call after udev_watch_new, so that
 * nothing falls between the two. 0 or -errno. */
int udev_watch_enumerate(struct udev_watch *watch);
void udev_watch_free(struct udev_watch *watch);
/* Enumerates again between rescan_begin and rescan_end; why: for the log.
 * Does nothing when watch is NULL. */
void udev_watch_rescan(struct udev_watch *watch, const char *why);
/* The machine woke from suspend (a bus handler's shape: userdata is the watch). */
void udev_watch_resumed(void *watch);
