/* The benchmarks' listener: one process that time-stamps both ends of a
 * daemon's work, so that latency is what a client sees from the uevent.
 *
 *   phonebind-bench-listener ADDRESS TESTBED INTERFACE...
 *
 * It subscribes on the bus at ADDRESS to the signals of each INTERFACE,
 * and binds a socket of its own among the umockdev TESTBED's uevent
 * sockets (event<N>), so that umockdev sends it every uevent it sends the
 * daemon, a few microseconds apart. Lines, in order of arrival:
 *
 *   <ns> uevent <action> <devpath>       the kernel's receive time stamp
 *   <ns> <member> <string arguments...>  as sd-bus hands it the signal
 *
 * both CLOCK_REALTIME (SO_TIMESTAMPNS has no other). The uevent socket is
 * not polled: its datagrams wait, with their time stamps, until the next
 * signal (or the next idle moment), so the listener does not compete for
 * the CPU with the daemon while a burst arrives; SIGUSR1 has them
 * written at once (the harness sends it once the last signal is in). In C, so that no
 * interpreter sits between a signal and its time stamp: the same listener
 * for phonebindd, boltd and the floor. Prints "ready" once every match is
 * in place; exits on SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#define PROBE_BUFFER (16 * 1024 * 1024)

static volatile sig_atomic_t stopping;
static int probe_fd = -1;

static void on_sigterm(int sig)
{
  (void)sig;
  stopping = 1;
}

/* Only to interrupt the wait: the loop drains the uevent socket after it. */
static void on_sigusr1(int sig)
{
  (void)sig;
}

static long long ns_of(const struct timespec *ts)
{
  return ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* The value of KEY= among the NUL-separated properties of a uevent. */
static const char *uevent_value(const char *buf, size_t len, const char *key)
{
  size_t klen = strlen(key);

  for (size_t i = 0; i < len; i += strnlen(buf + i, len - i) + 1)
    if (len - i > klen && memcmp(buf + i, key, klen) == 0)
      return buf + i + klen;
  return "?";
}

static void drain_probe(void)
{
  static char buf[8192];

  for (;;) {
    char control[CMSG_SPACE(sizeof(struct timespec))];
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
    struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct timespec ts = {0};
    ssize_t n = recvmsg(probe_fd, &msg, MSG_DONTWAIT);

    if (n < 0)
      return;
    buf[n] = '\0';
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS)
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
    printf("%lld uevent %s %s\n", ns_of(&ts), uevent_value(buf, (size_t)n, "ACTION="),
           uevent_value(buf, (size_t)n, "DEVPATH="));
  }
}

/* The string-like arguments (s, o), in order; others are skipped. */
static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
  struct timespec now;
  char type;
  const char *contents;

  (void)userdata;
  (void)error;
  clock_gettime(CLOCK_REALTIME, &now);
  drain_probe();
  printf("%lld %s", ns_of(&now), sd_bus_message_get_member(m));
  while (sd_bus_message_peek_type(m, &type, &contents) > 0) {
    const char *s;

    if ((type == 's' || type == 'o') && sd_bus_message_read_basic(m, type, &s) >= 0)
      printf(" %s", s);
    else if (sd_bus_message_skip(m, NULL) < 0)
      break;
  }
  putchar('\n');
  return 0;
}

static int open_probe(const char *testbed, struct sockaddr_un *addr)
{
  int one = 1, size = PROBE_BUFFER;

  addr->sun_family = AF_UNIX;
  if ((size_t)snprintf(addr->sun_path, sizeof addr->sun_path, "%s/event%d", testbed,
                       (int)getpid()) >= sizeof addr->sun_path)
    return -ENAMETOOLONG;
  probe_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (probe_fd < 0)
    return -errno;
  if (setsockopt(probe_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    setsockopt(probe_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (setsockopt(probe_fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0 ||
      bind(probe_fd, (struct sockaddr *)addr, sizeof *addr) < 0)
    return -errno;
  return 0;
}

static int subscribe(sd_bus *bus, int count, char **interfaces)
{
  for (int i = 0; i < count; i++) {
    char rule[256];
    int r;

    snprintf(rule, sizeof rule, "type='signal',interface='%s'", interfaces[i]);
    r = sd_bus_add_match(bus, NULL, rule, on_signal, NULL);
    if (r < 0)
      return r;
  }
  return 0;
}

/* Output is flushed when the bus queue is empty, not per line: the time
 * stamps are taken before, and a write per signal would slow a burst. */
static int run(sd_bus *bus)
{
  while (!stopping) {
    int r = sd_bus_process(bus, NULL);

    if (r < 0)
      return r;
    if (r > 0)
      continue;
    drain_probe();
    fflush(stdout);
    r = sd_bus_wait(bus, UINT64_MAX);
    if (r < 0 && r != -EINTR)
      return r;
  }
  return 0;
}

static int connect_bus(const char *address, sd_bus **out)
{
  int r = sd_bus_new(out);

  if (r >= 0)
    r = sd_bus_set_address(*out, address);
  if (r >= 0)
    r = sd_bus_set_bus_client(*out, 1);
  if (r >= 0)
    r = sd_bus_start(*out);
  return r;
}

int main(int argc, char **argv)
{
  struct sigaction sa = {.sa_handler = on_sigterm}, usr = {.sa_handler = on_sigusr1};
  struct sockaddr_un addr = {0};
  sd_bus *bus = NULL;
  int r;

  if (argc < 4) {
    fprintf(stderr, "usage: phonebind-bench-listener ADDRESS TESTBED INTERFACE...\n");
    return 2;
  }
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &usr, NULL);
  r = connect_bus(argv[1], &bus);
  if (r >= 0)
    r = subscribe(bus, argc - 3, argv + 3);
  if (r >= 0)
    r = open_probe(argv[2], &addr);
  if (r >= 0) {
    printf("ready\n");
    fflush(stdout);
    r = run(bus);
  }
  if (r < 0)
    fprintf(stderr, "phonebind-bench-listener: %s\n", strerror(-r));
  if (probe_fd >= 0) {
    unlink(addr.sun_path);
    close(probe_fd);
  }
  sd_bus_flush_close_unref(bus);
  return r < 0;
}
