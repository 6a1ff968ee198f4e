/* udev monitor and coldplug enumeration; see udev_watch.h. Devices are
 * selected by the rule's property, not a tag: umockdev does not emulate
 * tags, and properties work with real udev too. */
#include "udev_watch.h"

#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <libudev.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CANDIDATE_PROPERTY "PHONEBIND_CANDIDATE"
/* Bursts of hundreds of phones: a larger receive buffer makes ENOBUFS
 * rare; rescanning handles it when it still happens. */
#define RECEIVE_BUFFER (4 * 1024 * 1024)

struct udev_watch {
  struct udev *udev;
  struct udev_monitor *monitor;
  struct event *event;
  struct udev_watch_handlers handlers;
};

/* The first of a property or a sysfs attribute that is set. */
static char *read_value(struct udev_device *device, const char *property, const char *sysattr)
{
  const char *value = property ? udev_device_get_property_value(device, property) : NULL;

  if ((!value || !*value) && sysattr)
    value = udev_device_get_sysattr_value(device, sysattr);
  return xstrdup(value ? value : "");
}

/* The udev properties (and sysfs attributes where udev left a property
 * out) of a usb_device; missing values are "". */
static void read_phone_info(struct udev_device *device, struct phone_info *out_info)
{
  *out_info = (struct phone_info){
    .vendor_id = read_value(device, "ID_VENDOR_ID", "idVendor"),
    .product_id = read_value(device, "ID_MODEL_ID", "idProduct"),
    .vendor = read_value(device, "ID_VENDOR_FROM_DATABASE", "manufacturer"),
    .model = read_value(device, "ID_MODEL_FROM_DATABASE", "product"),
    /* udev drops ID_SERIAL_SHORT for serials with control characters or
     * commas; the raw attribute then goes through the same usability
     * check and is refused there, as it must be on every PC. */
    .serial = read_value(device, "ID_SERIAL_SHORT", "serial"),
    .devnode = read_value(device, "DEVNAME", NULL),
    .busnum = read_value(device, "BUSNUM", "busnum"),
    .devnum = read_value(device, "DEVNUM", "devnum"),
  };
  if (!*out_info->vendor) {
    free(out_info->vendor);
    out_info->vendor = read_value(device, "ID_VENDOR", NULL);
  }
  if (!*out_info->model) {
    free(out_info->model);
    out_info->model = read_value(device, "ID_MODEL", NULL);
  }
}

static void report_attached(struct udev_watch *watch, struct udev_device *device)
{
  struct phone_info info;

  read_phone_info(device, &info);
  watch->handlers.attached(udev_device_get_syspath(device), &info, watch->handlers.userdata);
  phone_info_clear(&info);
}

static bool is_candidate(struct udev_device *device)
{
  const char *value = udev_device_get_property_value(device, CANDIDATE_PROPERTY);
  const char *devtype = udev_device_get_devtype(device);

  return value && strcmp(value, "1") == 0 && devtype && strcmp(devtype, "usb_device") == 0;
}

int udev_watch_enumerate(struct udev_watch *watch)
{
  struct udev_enumerate *enumerate = udev_enumerate_new(watch->udev);
  struct udev_list_entry *entry;
  int r;

  if (!enumerate)
    return -ENOMEM;
  udev_enumerate_add_match_subsystem(enumerate, "usb");
  udev_enumerate_add_match_property(enumerate, CANDIDATE_PROPERTY, "1");
  r = udev_enumerate_scan_devices(enumerate);
  udev_list_entry_foreach(entry, r < 0 ? NULL : udev_enumerate_get_list_entry(enumerate))
  {
    struct udev_device *device =
      udev_device_new_from_syspath(watch->udev, udev_list_entry_get_name(entry));
    if (device && is_candidate(device))
      report_attached(watch, device);
    udev_device_unref(device);
  }
  udev_enumerate_unref(enumerate);
  return r;
}

void udev_watch_rescan(struct udev_watch *watch, const char *why)
{
  if (!watch)
    return;
  log_info("%s; enumerating devices again", why);
  watch->handlers.rescan_begin(watch->handlers.userdata);
  udev_watch_enumerate(watch);
  watch->handlers.rescan_end(watch->handlers.userdata);
}

void udev_watch_resumed(void *watch)
{
  udev_watch_rescan(watch, "resumed from suspend");
}

static void handle_device(struct udev_watch *watch, struct udev_device *device)
{
  const char *action = udev_device_get_action(device);
  const char *devtype = udev_device_get_devtype(device);

  if (!action || !devtype || strcmp(devtype, "usb_device") != 0)
    return; /* interfaces of the same phone, or a malformed event */
  if (strcmp(action, "remove") == 0)
    watch->handlers.detached(udev_device_get_syspath(device), watch->handlers.userdata);
  else if ((strcmp(action, "add") == 0 || strcmp(action, "bind") == 0) && is_candidate(device))
    report_attached(watch, device);
}

static void on_monitor(evutil_socket_t fd, short events, void *arg)
{
  struct udev_watch *watch = arg;

  (void)fd;
  (void)events;
  /* Drain: the socket is non-blocking, and one wakeup may carry many. */
  for (;;) {
    struct udev_device *device;

    errno = 0;
    device = udev_monitor_receive_device(watch->monitor);
    if (!device) {
      if (errno == ENOBUFS)
        udev_watch_rescan(watch, "udev events were lost");
      break;
    }
    handle_device(watch, device);
    udev_device_unref(device);
  }
}

static long read_rmem_max(void)
{
  FILE *f = fopen("/proc/sys/net/core/rmem_max", "re");
  long value = -1;

  if (f) {
    if (fscanf(f, "%ld", &value) != 1)
      value = -1;
    fclose(f);
  }
  return value;
}

/* SO_RCVBUFFORCE passes the net.core.rmem_max cap, for a process with
 * CAP_NET_ADMIN; without it the kernel silently caps SO_RCVBUF. Say what
 * we got: a small buffer means rescans after bursts. */
static void set_receive_buffer(struct udev_watch *watch)
{
  int fd = udev_monitor_get_fd(watch->monitor), want = RECEIVE_BUFFER, got = 0;
  socklen_t len = sizeof got;

  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) < 0)
    return;
  got /= 2; /* the kernel reports twice the payload it grants */
  if (got >= want)
    log_info("udev receive buffer %d KiB", got / 1024);
  else
    log_warn(
      "udev receive buffer %d KiB, not the %d KiB asked: no CAP_NET_ADMIN and "
      "net.core.rmem_max = %ld; a burst of phones may overflow it (then all devices are "
      "enumerated again)",
      got / 1024, want / 1024, read_rmem_max());
}

int udev_watch_new(struct event_base *base, const struct udev_watch_handlers *handlers,
                   struct udev_watch **out_watch)
{
  struct udev_watch *watch = xcalloc(1, sizeof *watch);
  int r = -ENOMEM;

  watch->handlers = *handlers;
  watch->udev = udev_new();
  if (watch->udev)
    watch->monitor = udev_monitor_new_from_netlink(watch->udev, "udev");
  if (!watch->monitor)
    goto fail;
  set_receive_buffer(watch);
  r = udev_monitor_filter_add_match_subsystem_devtype(watch->monitor, "usb", "usb_device");
  if (r >= 0)
    r = udev_monitor_enable_receiving(watch->monitor);
  if (r < 0)
    goto fail;
  watch->event =
    event_new(base, udev_monitor_get_fd(watch->monitor), EV_READ | EV_PERSIST, on_monitor, watch);
  if (!watch->event || event_add(watch->event, NULL) < 0) {
    r = -ENOMEM;
    goto fail;
  }
  *out_watch = watch;
  return 0;
fail:
  udev_watch_free(watch);
  return r;
}

void udev_watch_free(struct udev_watch *watch)
{
  if (!watch)
    return;
  if (watch->event)
    event_free(watch->event);
  udev_monitor_unref(watch->monitor);
  udev_unref(watch->udev);
  free(watch);
}
