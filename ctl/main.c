/* phonebindctl: the command-line client of phonebindd. Parses, opens the
 * bus, runs one command and maps what went wrong to an exit code; the
 * printing is format.c's, the calls client.c's and monitor.c's. */
#include "args.h"
#include "client.h"
#include "errors.h"
#include "format.h"
#include "match.h"
#include "monitor.h"
#include "redact.h"
#include "version.h"
#include "xalloc.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ctl {
  sd_bus *bus;
  const char *bus_name; /* for messages: "the system bus", "the bus at ..." */
  struct ctl_format format;
};

/* Prints why a call failed ("phonebindctl: what: why") and returns the
 * exit code; the not-running message stands alone, worded for scripts'
 * users to recognise. Frees the error. */
static int report(const struct ctl *ctl, const char *what, int r, sd_bus_error *error)
{
  enum ctl_exit code = ctl_exit_for(r, error);
  _cleanup_free_ char *message = ctl_error_message(r, error, ctl->bus_name);

  if (code == CTL_EXIT_NOT_RUNNING || !what)
    fprintf(stderr, "phonebindctl: %s\n", message);
  else
    fprintf(stderr, "phonebindctl: %s: %s\n", what, message);
  sd_bus_error_free(error);
  return code;
}

static int run_list(struct ctl *ctl)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  struct ctl_terminal *terminals = NULL;
  size_t count = 0;
  int r = ctl_client_list(ctl->bus, &terminals, &count, &error);

  if (r < 0)
    return report(ctl, "list", r, &error);
  ctl_print_list(stdout, terminals, count, &ctl->format);
  ctl_terminals_free(terminals, count);
  return CTL_EXIT_OK;
}

static void print_candidates(const struct ctl_terminal *terminals, size_t count, const char *wanted)
{
  fprintf(stderr, "phonebindctl: more than one terminal starts with '%s':", wanted);
  for (size_t i = 0; i < count; i++)
    if (strncmp(terminals[i].id, wanted, strlen(wanted)) == 0)
      fprintf(stderr, " %s", terminals[i].id);
  fputc('\n', stderr);
}

/* The attached terminal TERMINAL names, into *out; or an exit code. */
static int resolve(struct ctl *ctl, const char *wanted, struct ctl_terminal *out)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  struct ctl_terminal *terminals = NULL;
  size_t count = 0;
  int index, r = ctl_client_list(ctl->bus, &terminals, &count, &error);

  if (r < 0)
    return report(ctl, wanted, r, &error);
  index = ctl_match_terminal(terminals, count, wanted);
  if (index == CTL_MATCH_AMBIGUOUS)
    print_candidates(terminals, count, wanted);
  else if (index < 0)
    fprintf(stderr, "phonebindctl: no attached terminal '%s'\n", wanted);
  if (index < 0) {
    ctl_terminals_free(terminals, count);
    return CTL_EXIT_NO_SUCH_TERMINAL;
  }
  *out = terminals[index];
  terminals[index] = (struct ctl_terminal){0};
  ctl_terminals_free(terminals, count);
  return CTL_EXIT_OK;
}

static int run_info(struct ctl *ctl, const char *wanted)
{
  struct ctl_terminal terminal;
  int r = resolve(ctl, wanted, &terminal);

  if (r != CTL_EXIT_OK)
    return r;
  ctl_print_info(stdout, &terminal, &ctl->format);
  ctl_terminal_clear(&terminal);
  return CTL_EXIT_OK;
}

static int run_manage(struct ctl *ctl, const char *method, const char *wanted)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  struct ctl_terminal terminal;
  int r = resolve(ctl, wanted, &terminal);

  if (r != CTL_EXIT_OK)
    return r;
  r = ctl_client_manage(ctl->bus, method, terminal.path, &error);
  if (r < 0) {
    _cleanup_free_ char *what =
      xasprintf("%s %s", strcmp(method, "Forget") == 0 ? "forget" : "retry", wanted);
    r = report(ctl, what, r, &error);
  } else {
    r = CTL_EXIT_OK;
  }
  ctl_terminal_clear(&terminal);
  return r;
}

static int run_status(struct ctl *ctl)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  struct ctl_status status;
  int r = ctl_client_status(ctl->bus, &status, &error);

  if (r < 0 && ctl_exit_for(r, &error) != CTL_EXIT_NOT_RUNNING)
    return report(ctl, "status", r, &error);
  sd_bus_error_free(&error); /* gone between two calls: not running, as below */
  ctl_print_status(stdout, &status, &ctl->format);
  if (!status.running) {
    fprintf(stderr, "phonebindctl: phonebindd is not running (org.phonebind1 not on %s)\n",
            ctl->bus_name);
    return CTL_EXIT_NOT_RUNNING;
  }
  ctl_status_clear(&status);
  return CTL_EXIT_OK;
}

static int run_reset_account(struct ctl *ctl)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  int r = ctl_client_reset_account(ctl->bus, &error);

  return r < 0 ? report(ctl, "reset-account", r, &error) : CTL_EXIT_OK;
}

static int run_monitor(struct ctl *ctl)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  int r = ctl_monitor_run(ctl->bus, &ctl->format, &error);

  return r < 0 ? report(ctl, "monitor", r, &error) : CTL_EXIT_OK;
}

static int run(const struct ctl_args *args)
{
  _cleanup_free_ char *bus_name =
    args->address ? xasprintf("the bus at %s", args->address) : xstrdup("the system bus");
  const char *term = getenv("TERM");
  struct ctl ctl = {.bus_name = bus_name, .format = args->format};
  int r;

  ctl.format.color = !args->format.json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && term &&
                     *term && strcmp(term, "dumb") != 0;
  r = ctl_client_open(args->address, &ctl.bus);
  if (r < 0) {
    sd_bus_error none = SD_BUS_ERROR_NULL;
    if (args->command == CTL_STATUS && ctl_exit_for(r, &none) == CTL_EXIT_NOT_RUNNING)
      ctl_print_status(stdout, &(struct ctl_status){0}, &ctl.format); /* no bus: no daemon */
    return report(&ctl, NULL, r, &none);
  }
  switch (args->command) {
  case CTL_LIST:
    r = run_list(&ctl);
    break;
  case CTL_INFO:
    r = run_info(&ctl, args->terminal);
    break;
  case CTL_FORGET:
    r = run_manage(&ctl, "Forget", args->terminal);
    break;
  case CTL_RETRY:
    r = run_manage(&ctl, "Retry", args->terminal);
    break;
  case CTL_MONITOR:
    r = run_monitor(&ctl);
    break;
  case CTL_RESET_ACCOUNT:
    r = run_reset_account(&ctl);
    break;
  default:
    r = run_status(&ctl);
  }
  sd_bus_flush_close_unref(ctl.bus);
  return r;
}

/* Output that did not reach its file (a full disk, a closed pipe with
 * SIGPIPE ignored) is a failure, not a silent success. */
static int finish(int code)
{
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "phonebindctl: cannot write output: %s\n", strerror(errno));
    return code == CTL_EXIT_OK ? CTL_EXIT_FAILURE : code;
  }
  return code;
}

int main(int argc, char **argv)
{
  struct ctl_args args;
  char error[160];

  setlocale(LC_CTYPE, ""); /* column widths of non-ASCII phone names */
  if (ctl_args_parse(argc, argv, &args, error, sizeof error) < 0) {
    fprintf(stderr, "phonebindctl: %s\nTry 'phonebindctl --help'.\n", error);
    return CTL_EXIT_USAGE;
  }
  if (args.command == CTL_HELP) {
    fputs(ctl_usage, stdout);
    return finish(CTL_EXIT_OK);
  }
  if (args.command == CTL_VERSION) {
    printf("phonebindctl %s\n", PHONEBIND_VERSION);
    return finish(CTL_EXIT_OK);
  }
  return finish(run(&args));
}
