/* Runs the identity helper; see identity_helper.h. The child is reaped
 * through a pidfd, so the daemon needs no global SIGCHLD handler, and it
 * runs in a process group of its own so a timeout kills all it started.
 * Nothing here waits: a helper killed while stuck in uninterruptible USB
 * I/O dies only when the I/O ends, and a blocking waitpid would freeze
 * the whole loop (D-Bus, udev, the watchdog) until then. */
#include "identity_helper.h"

#include "log.h"
#include "terminal_id.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUTPUT_MAX 4096

static const struct timeval exit_poll = {0, 20 * 1000};

struct identity_query {
  struct event_base *base;
  pid_t pid;
  int pidfd, out_fd;
  struct event *on_output, *on_exit, *on_timeout;
  char output[OUTPUT_MAX + 1];
  size_t output_len;
  bool output_done, exited;
  int status;
  identity_done_fn done;
  void *userdata;
};

/* The loop reaps a killed helper whenever it is really gone. */
static void on_killed_exit(evutil_socket_t pidfd, short events, void *arg)
{
  siginfo_t info;

  (void)events;
  (void)arg;
  waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG);
  close(pidfd);
}

struct killed {
  struct event_base *base;
  pid_t pid;
};

/* Without a pidfd: asked again every exit_poll until it is gone. */
static void on_killed_poll(evutil_socket_t fd, short events, void *arg)
{
  struct killed *killed = arg;

  (void)fd;
  (void)events;
  if (waitpid(killed->pid, NULL, WNOHANG) == 0 &&
      event_base_once(killed->base, -1, EV_TIMEOUT, on_killed_poll, killed, &exit_poll) == 0)
    return;
  free(killed);
}

static void kill_and_reap_later(struct identity_query *query)
{
  struct killed *killed;

  kill(-query->pid, SIGKILL);
  if (query->pidfd >= 0 &&
      event_base_once(query->base, query->pidfd, EV_READ, on_killed_exit, NULL, NULL) == 0) {
    query->pidfd = -1; /* the reaper owns it now */
    return;
  }
  killed = xmalloc(sizeof *killed);
  *killed = (struct killed){query->base, query->pid};
  if (waitpid(query->pid, NULL, WNOHANG) != 0 ||
      event_base_once(query->base, -1, EV_TIMEOUT, on_killed_poll, killed, &exit_poll) < 0)
    free(killed); /* reaped, or a zombie at worst */
}

static void query_free(struct identity_query *query)
{
  if (query->on_output)
    event_free(query->on_output);
  if (query->on_exit)
    event_free(query->on_exit);
  if (query->on_timeout)
    event_free(query->on_timeout);
  if (!query->exited && query->pid > 0)
    kill_and_reap_later(query);
  if (query->out_fd >= 0)
    close(query->out_fd);
  if (query->pidfd >= 0)
    close(query->pidfd);
  free(query);
}

/* The first line, if it is a valid IMEI; else no IMEI. */
const char *identity_output_imei(char *output, size_t len)
{
  char *newline;

  output[len] = '\0';
  newline = strpbrk(output, "\r\n");
  if (newline)
    *newline = '\0';
  return terminal_imei_is_valid(output) ? output : NULL;
}

static void finish(struct identity_query *query)
{
  int code = WIFEXITED(query->status) ? WEXITSTATUS(query->status) : -1;
  const char *imei = code == 0 ? identity_output_imei(query->output, query->output_len) : NULL;

  if (!imei)
    log_debug("identity helper gave no IMEI (exit status %d)", code);
  query->done(imei, code == IDENTITY_EXIT_LATER, query->userdata);
  query_free(query);
}

static void maybe_finish(struct identity_query *query)
{
  if (query->output_done && query->exited)
    finish(query);
}

static void on_output(evutil_socket_t fd, short events, void *arg)
{
  struct identity_query *query = arg;
  ssize_t n;

  (void)events;
  n = read(fd, query->output + query->output_len, OUTPUT_MAX - query->output_len);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n > 0)
    query->output_len += (size_t)n;
  if (n <= 0 || query->output_len == OUTPUT_MAX) {
    event_del(query->on_output);
    query->output_done = true;
    maybe_finish(query);
  }
}

static void on_exit_(evutil_socket_t fd, short events, void *arg)
{
  struct identity_query *query = arg;

  siginfo_t info = {0};

  (void)fd;
  (void)events;
  /* Exited? (Asked without reaping: polled, this runs while it works.) */
  if (waitid(P_PID, (id_t)query->pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid == 0)
    return;
  /* anything it left behind, while the zombie still holds the group's id */
  kill(-query->pid, SIGKILL);
  if (waitpid(query->pid, &query->status, WNOHANG) != query->pid)
    return;
  query->exited = true;
  event_del(query->on_exit);
  maybe_finish(query);
}

static void on_timeout(evutil_socket_t fd, short events, void *arg)
{
  struct identity_query *query = arg;

  (void)fd;
  (void)events;
  log_warn("identity helper timed out; killing it");
  query->output_len = 0; /* a late half line is not an answer */
  query->status = -1;
  query->done(NULL, false, query->userdata);
  query_free(query);
}

/* The daemon's own channels to systemd and its credentials (the registry
 * token) are not the helper's. */
static bool is_private(const char *entry)
{
  static const char *const prefixes[] = {"NOTIFY_SOCKET=", "WATCHDOG_",
                                         "CREDENTIALS_DIRECTORY=", "PHONEBIND_"};

  for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
    if (strncmp(entry, prefixes[i], strlen(prefixes[i])) == 0)
      return true;
  return false;
}

/* The helper's environment: the daemon's, less what is private, plus the
 * device. Built before fork: between fork and exec only async-signal-safe
 * calls are allowed (libcurl's resolver may have a thread running). */
static char **helper_environment(const struct identity_device *device)
{
  const struct {
    const char *name, *value;
  } vars[] = {
    {"PHONEBIND_SYSPATH", device->syspath}, {"PHONEBIND_DEVNODE", device->devnode},
    {"PHONEBIND_VENDOR", device->vendor},   {"PHONEBIND_PRODUCT", device->product},
    {"PHONEBIND_SERIAL", device->serial},   {"PHONEBIND_BUSNUM", device->busnum},
    {"PHONEBIND_DEVNUM", device->devnum},
  };
  size_t inherited = 0, count = 0;
  char **env;

  while (environ[inherited])
    inherited++;
  env = xcalloc(inherited + sizeof vars / sizeof *vars + 1, sizeof *env);
  for (size_t i = 0; i < inherited; i++)
    if (!is_private(environ[i]))
      env[count++] = xstrdup(environ[i]);
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
    env[count++] = xasprintf("%s=%s", vars[i].name, vars[i].value ? vars[i].value : "");
  return env;
}

static void environment_free(char **env)
{
  for (char **entry = env; *entry; entry++)
    free(*entry);
  free(env);
}

static void child_exec(const char *command, char **env, int out_fd)
{
  char sh[] = "sh", dash_c[] = "-c";
  char *const argv[] = {sh, dash_c, (char *)command, NULL};
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

  setpgid(0, 0);
  if (devnull >= 0)
    dup2(devnull, STDIN_FILENO);
  dup2(out_fd, STDOUT_FILENO);
  execve("/bin/sh", argv, env);
  _exit(127);
}

int identity_helper_run(struct event_base *base, const char *command,
                        const struct identity_device *device, long timeout_ms,
                        identity_done_fn done, void *userdata, struct identity_query **out_query)
{
  struct identity_query *query;
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  int pipe_fds[2];
  char **env;

  if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
    return -errno;
  query = xcalloc(1, sizeof *query);
  *query = (struct identity_query){
    .base = base, .pidfd = -1, .out_fd = pipe_fds[0], .done = done, .userdata = userdata};
  env = helper_environment(device);
  query->pid = fork();
  if (query->pid == 0) {
    close(pipe_fds[0]);
    fcntl(pipe_fds[1], F_SETFL, 0); /* the helper writes blocking */
    child_exec(command, env, pipe_fds[1]);
  }
  environment_free(env);
  close(pipe_fds[1]);
  if (query->pid < 0) {
    int r = -errno;
    query->pid = 0;
    query_free(query);
    return r;
  }
  setpgid(query->pid, query->pid); /* also here: no race with the kill */
  query->pidfd = (int)syscall(SYS_pidfd_open, query->pid, 0);
  if (query->pidfd < 0 && errno != ENOSYS) {
    int r = -errno;
    query_free(query);
    return r;
  }
  query->on_output = event_new(base, query->out_fd, EV_READ | EV_PERSIST, on_output, query);
  query->on_timeout = evtimer_new(base, on_timeout, query);
  event_add(query->on_output, NULL);
  if (query->pidfd >= 0) {
    query->on_exit = event_new(base, query->pidfd, EV_READ | EV_PERSIST, on_exit_, query);
    event_add(query->on_exit, NULL);
  } else {
    /* No pidfd_open (a kernel before 5.3, valgrind): the exit polled
     * while the helper runs, still without a global SIGCHLD handler. */
    query->on_exit = event_new(base, -1, EV_PERSIST, on_exit_, query);
    event_add(query->on_exit, &exit_poll);
  }
  evtimer_add(query->on_timeout, &tv);
  *out_query = query;
  return 0;
}

void identity_query_cancel(struct identity_query *query)
{
  if (query)
    query_free(query);
}
