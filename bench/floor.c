/* The floor of attach-storm: the least a daemon can do between a uevent
 * and a D-Bus signal. A libudev monitor (the same filter and receive
 * buffer as phonebindd's udev_watch.c) and sd-bus on the system bus; per
 * uevent of a phone one signal, org.phonebind1.Floor.Decision(s action,
 * s syspath), and nothing else: no store, no registry, no objects, no log.
 * Measured by bench/peers.py with the same harness as phonebindd, it is
 * the cost of the input and the output alone. A phone's removal is
 * org.phonebind1.Floor.Detached(s syspath). With --attached, each
 * Decision follows an Attached(s syspath), two signals per phone as
 * phonebindd's contract has (TerminalAttached, then Decision): the floor
 * of that shape. Prints "ready" once the
 * monitor receives and the bus is connected; exits on SIGTERM. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <libudev.h>
#include <systemd/sd-bus.h>

#define FLOOR_PATH "/org/phonebind1/floor"
#define FLOOR_INTERFACE "org.phonebind1.Floor"
#define RECEIVE_BUFFER (8 * 1024 * 1024)

static volatile sig_atomic_t stopping;
static int attached_first; /* --attached */

static void on_sigterm(int sig)
{
  (void)sig;
  stopping = 1;
}

/* One signal per phone's uevent; interfaces and the rest are filtered
 * in the kernel (or umockdev) by subsystem and devtype already. */
static void emit_device(sd_bus *bus, struct udev_device *device)
{
  const char *action = udev_device_get_action(device);
  const char *candidate = udev_device_get_property_value(device, "PHONEBIND_CANDIDATE");

  if (!action)
    return;
  if (strcmp(action, "remove") == 0)
    sd_bus_emit_signal(bus, FLOOR_PATH, FLOOR_INTERFACE, "Detached", "s",
                       udev_device_get_syspath(device));
  else if (candidate && strcmp(candidate, "1") == 0) {
    if (attached_first)
      sd_bus_emit_signal(bus, FLOOR_PATH, FLOOR_INTERFACE, "Attached", "s",
                         udev_device_get_syspath(device));
    sd_bus_emit_signal(bus, FLOOR_PATH, FLOOR_INTERFACE, "Decision", "ss", action,
                       udev_device_get_syspath(device));
  }
}

static void drain_monitor(struct udev_monitor *monitor, sd_bus *bus)
{
  struct udev_device *device;

  while ((device = udev_monitor_receive_device(monitor))) {
    emit_device(bus, device);
    udev_device_unref(device);
  }
  sd_bus_flush(bus);
}

static int run(struct udev_monitor *monitor, sd_bus *bus)
{
  struct pollfd fds[2] = {{.fd = udev_monitor_get_fd(monitor), .events = POLLIN},
                          {.fd = sd_bus_get_fd(bus)}};

  while (!stopping) {
    int r;

    while ((r = sd_bus_process(bus, NULL)) > 0)
      ;
    if (r < 0)
      return r;
    fds[1].events = (short)sd_bus_get_events(bus);
    if (poll(fds, 2, -1) < 0 && errno != EINTR)
      return -errno;
    if (fds[0].revents & POLLIN)
      drain_monitor(monitor, bus);
  }
  return 0;
}

static struct udev_monitor *open_monitor(struct udev *udev)
{
  struct udev_monitor *monitor = udev_monitor_new_from_netlink(udev, "udev");
  int size = RECEIVE_BUFFER;

  if (!monitor)
    return NULL;
  if (setsockopt(udev_monitor_get_fd(monitor), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    setsockopt(udev_monitor_get_fd(monitor), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (udev_monitor_filter_add_match_subsystem_devtype(monitor, "usb", "usb_device") < 0 ||
      udev_monitor_enable_receiving(monitor) < 0)
    return udev_monitor_unref(monitor);
  return monitor;
}

int main(int argc, char **argv)
{
  struct sigaction sa = {.sa_handler = on_sigterm};
  struct udev *udev = udev_new();
  struct udev_monitor *monitor = udev ? open_monitor(udev) : NULL;
  sd_bus *bus = NULL;
  int r = -ENOMEM;

  attached_first = argc > 1 && strcmp(argv[1], "--attached") == 0;
  sigaction(SIGTERM, &sa, NULL);
  if (monitor)
    r = sd_bus_open_system(&bus);
  if (r >= 0) {
    printf("ready\n");
    fflush(stdout);
    r = run(monitor, bus);
  }
  if (r < 0)
    fprintf(stderr, "phonebind-floor: %s\n", strerror(-r));
  sd_bus_flush_close_unref(bus);
  udev_monitor_unref(monitor);
  udev_unref(udev);
  return r < 0;
}
