/* The monitor loop; see monitor.h. The signals that end it are read from
 * a signalfd polled with the bus, so one that arrives between two polls
 * is not lost (a handler setting a flag would race with the wait). */
#include "monitor.h"

#include "client.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define OWNER_CHANGED_RULE                                                                         \
  "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"                      \
  "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" CTL_BUS_NAME "'"

static void emit(const struct ctl_event *event, const struct ctl_format *format)
{
  ctl_print_event(stdout, event, format);
  fflush(stdout);
}

static int on_manager_signal(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
  const char *member = sd_bus_message_get_member(message);
  struct ctl_event event = {.time = (int64_t)time(NULL)};

  (void)error;
  if (strcmp(member, "TerminalAttached") == 0)
    event.kind = CTL_EVENT_ATTACHED;
  else if (strcmp(member, "TerminalDetached") == 0)
    event.kind = CTL_EVENT_DETACHED;
  else if (strcmp(member, "Decision") == 0)
    event.kind = CTL_EVENT_DECISION;
  else
    return 0;
  if (sd_bus_message_read(message, "o", &event.path) < 0)
    return 0;
  if (event.kind == CTL_EVENT_DECISION &&
      sd_bus_message_read(message, "ss", &event.decision, &event.reason) < 0)
    return 0;
  emit(&event, userdata);
  return 0;
}

static int on_owner_changed(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
  const char *name, *old_owner, *new_owner;
  struct ctl_event event = {.time = (int64_t)time(NULL)};

  (void)error;
  if (sd_bus_message_read(message, "sss", &name, &old_owner, &new_owner) < 0)
    return 0;
  if (*old_owner) {
    event.kind = CTL_EVENT_DAEMON_STOPPED;
    emit(&event, userdata);
  }
  if (*new_owner) {
    event.kind = CTL_EVENT_DAEMON_STARTED;
    emit(&event, userdata);
  }
  return 0;
}

static int subscribe(sd_bus *bus, const struct ctl_format *format, sd_bus_error *error)
{
  int r = sd_bus_match_signal(bus, NULL, CTL_BUS_NAME, CTL_MANAGER_PATH, CTL_MANAGER_IFACE, NULL,
                              on_manager_signal, (void *)format);

  if (r >= 0)
    r = sd_bus_add_match(bus, NULL, OWNER_CHANGED_RULE, on_owner_changed, (void *)format);
  /* After the matches, so nothing the daemon does from here on is missed. */
  if (r >= 0)
    r = sd_bus_call_method(bus, CTL_BUS_NAME, CTL_MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping",
                           error, NULL, "");
  return r;
}

/* Milliseconds until sd-bus's absolute CLOCK_MONOTONIC deadline, or -1. */
static int poll_timeout(sd_bus *bus)
{
  uint64_t deadline, now;
  struct timespec ts;

  if (sd_bus_get_timeout(bus, &deadline) < 0 || deadline == UINT64_MAX)
    return -1;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
  if (deadline <= now)
    return 0;
  return (deadline - now) / 1000u > 60000u ? 60000 : (int)((deadline - now + 999u) / 1000u);
}

static int run_loop(sd_bus *bus, int signal_fd)
{
  for (;;) {
    struct pollfd fds[2] = {{.fd = sd_bus_get_fd(bus)}, {.fd = signal_fd, .events = POLLIN}};
    int r = sd_bus_process(bus, NULL);

    if (r < 0)
      return r;
    if (ferror(stdout)) /* nobody reads us any more (SIGPIPE ignored) */
      return -EPIPE;
    if (r > 0)
      continue;
    r = sd_bus_get_events(bus);
    if (r < 0)
      return r;
    fds[0].events = (short)r;
    if (poll(fds, 2, poll_timeout(bus)) < 0 && errno != EINTR)
      return -errno;
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo info;
      /* consumed here, or unblocking it on the way out would kill us */
      if (read(signal_fd, &info, sizeof info) == (ssize_t)sizeof info)
        return 0; /* interrupted: the normal end */
    }
  }
}

int ctl_monitor_run(sd_bus *bus, const struct ctl_format *format, sd_bus_error *error)
{
  sigset_t mask, old_mask;
  int signal_fd, r;

  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &mask, &old_mask) < 0)
    return -errno;
  signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) {
    r = -errno;
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    return r;
  }
  r = subscribe(bus, format, error);
  if (r >= 0)
    r = run_loop(bus, signal_fd);
  close(signal_fd);
  sigprocmask(SIG_SETMASK, &old_mask, NULL);
  return r < 0 ? r : 0;
}
