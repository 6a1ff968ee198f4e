/* The identity helper, run for real through /bin/sh: a valid IMEI, one
 * with a wrong check digit, garbage, nothing, a non-zero exit, a helper
 * that hangs (killed at the timeout, its process group with it, no zombie
 * left once the loop ran), the device's details in its environment,
 * exit status 75 ("ask again later": the phone does not trust this PC
 * yet), and cancel. waitpid and waitid are wrapped (-Wl,--wrap) to catch a wait
 * that blocks the event loop. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "identity_helper.h"

/* Every wait the module makes, checked: none may block. */
static int blocking_waits;

pid_t __real_waitpid(pid_t pid, int *status, int options);
pid_t __wrap_waitpid(pid_t pid, int *status, int options);
pid_t __wrap_waitpid(pid_t pid, int *status, int options)
{
  if (!(options & WNOHANG))
    blocking_waits++;
  return __real_waitpid(pid, status, options);
}

int __real_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options);
int __wrap_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options);
int __wrap_waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
  if (!(options & WNOHANG))
    blocking_waits++;
  return __real_waitid(idtype, id, info, options);
}

/* A kernel before 5.3, or valgrind: no pidfd_open (the suite runs twice,
 * the second time without it). */
static bool no_pidfd;
static int pidfd_refused;

long __real_syscall(long number, ...);
long __wrap_syscall(long number, ...);
long __wrap_syscall(long number, ...)
{
  va_list ap;
  long pid, flags;

  va_start(ap, number);
  pid = va_arg(ap, long);
  flags = va_arg(ap, long);
  va_end(ap);
  if (number == SYS_pidfd_open && no_pidfd) {
    pidfd_refused++;
    errno = ENOSYS;
    return -1;
  }
  return __real_syscall(number, pid, flags);
}

struct result {
  bool done;
  char imei[32];
};

static void on_done(const char *imei, bool later, void *userdata)
{
  struct result *result = userdata;

  result->done = true;
  snprintf(result->imei, sizeof result->imei, "%s", imei ? imei : later ? "(later)" : "(none)");
}

static const struct identity_device device = {
  .syspath = "/sys/devices/fake/1-1",
  .vendor = "18d1",
  .product = "4ee1",
  .serial = "0123456789ABCDEF",
  .busnum = "1",
  .devnum = "7",
};

static double run(const char *command, long timeout_ms, struct result *result)
{
  struct event_base *base = event_base_new();
  struct identity_query *query;
  struct timespec start, end;

  *result = (struct result){0};
  clock_gettime(CLOCK_MONOTONIC, &start);
  assert_int_equal(identity_helper_run(base, command, &device, timeout_ms, on_done, result, &query),
                   0);
  assert_false(result->done);
  while (!result->done)
    event_base_loop(base, EVLOOP_ONCE);
  clock_gettime(CLOCK_MONOTONIC, &end);
  event_base_dispatch(base); /* until a killed helper is reaped */
  event_base_free(base);
  return (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
}

static void expect(const char *command, const char *imei)
{
  struct result result;

  run(command, 5000, &result);
  assert_string_equal(result.imei, imei);
}

static void test_answers(void **state)
{
  (void)state;
  expect("echo 490154203237518", "490154203237518");
  expect("printf '490154203237518\\r\\nmore\\n'", "490154203237518");
  expect("echo 490154203237519", "(none)"); /* wrong Luhn digit */
  expect("echo 49015420323751", "(none)");
  expect("head -c 3000 /dev/urandom", "(none)");
  expect("true", "(none)");
  expect("echo 490154203237518; exit 3", "(none)");
  expect("exec /nonexistent/helper", "(none)");
  expect("echo 'phone not trusted yet' >&2; exit 75", "(later)"); /* ask again later */
  expect("echo 490154203237518; exit 75", "(later)");             /* no IMEI taken then */
  /* a helper that takes its time is not killed while it works (the
   * exit polled without a pidfd once killed it at the first look) */
  expect("sleep 0.2; echo 490154203237518", "490154203237518");
  expect("sleep 0.2; exit 75", "(later)");
  /* the daemon's channels to systemd and its credentials stay its own */
  setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
  setenv("CREDENTIALS_DIRECTORY", "/run/credentials/phonebindd.service", 1);
  expect(
    "[ -z \"$NOTIFY_SOCKET$CREDENTIALS_DIRECTORY\" ] && [ -n \"$PATH\" ] && "
    "echo 490154203237518",
    "490154203237518");
  unsetenv("NOTIFY_SOCKET");
  unsetenv("CREDENTIALS_DIRECTORY");
  /* the device is described in the environment */
  expect(
    "[ \"$PHONEBIND_VENDOR:$PHONEBIND_SERIAL:$PHONEBIND_DEVNUM\" = "
    "18d1:0123456789ABCDEF:7 ] && echo 356938035643809",
    "356938035643809");
}

static bool any_process_named(const char *marker)
{
  DIR *proc = opendir("/proc");
  struct dirent *entry;
  bool found = false;

  while (!found && (entry = readdir(proc))) {
    char path[300], cmdline[256] = "";
    FILE *f;
    snprintf(path, sizeof path, "/proc/%s/cmdline", entry->d_name);
    f = fopen(path, "r");
    if (!f)
      continue;
    size_t n = fread(cmdline, 1, sizeof cmdline - 1, f);
    fclose(f);
    for (size_t i = 0; i + 1 < n; i++)
      if (cmdline[i] == '\0')
        cmdline[i] = ' ';
    found = strstr(cmdline, marker) != NULL && strstr(cmdline, "sh -c") == NULL;
  }
  closedir(proc);
  return found;
}

static void test_hang_is_killed(void **state)
{
  struct result result;
  double took;
  (void)state;
  /* a grandchild too: the whole process group must go */
  took = run("sleep 31.5 & sleep 31.6; echo 490154203237518", 300, &result);
  assert_string_equal(result.imei, "(none)");
  assert_true(took < 2.0);
  usleep(100000);
  assert_false(any_process_named("sleep 31.5"));
  assert_false(any_process_named("sleep 31.6"));
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* no zombie child */
}

static void test_cancel(void **state)
{
  struct event_base *base = event_base_new();
  struct identity_query *query;
  struct result result = {0};
  (void)state;
  assert_int_equal(identity_helper_run(base, "sleep 32.5", &device, 5000, on_done, &result, &query),
                   0);
  identity_query_cancel(query);
  event_base_loop(base, EVLOOP_NONBLOCK);
  assert_false(result.done);
  usleep(100000);
  assert_false(any_process_named("sleep 32.5"));
  event_base_dispatch(base);
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* reaped by the loop */
  event_base_free(base);
}

/* Fault: a killed helper was reaped with a blocking waitpid on the event
 * loop. A helper stuck in uninterruptible USB I/O does not die at
 * SIGKILL until the I/O ends, and meanwhile nothing else ran. Whether
 * the helper dies at once or late, the module must never wait for it. */
static void test_never_waits_on_the_loop(void **state)
{
  struct event_base *base = event_base_new();
  struct identity_query *query;
  struct result result;
  (void)state;
  blocking_waits = 0;
  run("sleep 33.5", 200, &result); /* killed at the timeout */
  assert_int_equal(identity_helper_run(base, "sleep 33.6", &device, 5000, on_done, &result, &query),
                   0);
  identity_query_cancel(query); /* killed by a detach */
  event_base_dispatch(base);
  event_base_free(base);
  assert_int_equal(blocking_waits, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_answers), cmocka_unit_test(test_hang_is_killed),
    cmocka_unit_test(test_cancel), cmocka_unit_test(test_never_waits_on_the_loop)};
  int failed = cmocka_run_group_tests_name("with pidfd", tests, NULL, NULL);

  no_pidfd = true;
  failed += cmocka_run_group_tests_name("without pidfd", tests, NULL, NULL);
  return failed + (pidfd_refused == 0); /* the wrap must have been reached */
}
