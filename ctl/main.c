/* phonebindctl: the command-line client of phonebindd. */
#include "args.h"
#include "client.h"
#include "format.h"
#include "version.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int fail(int r, const sd_bus_error *error)
{
  enum ctl_exit code = ctl_exit_for(r, error);

  if (code == CTL_EXIT_NOT_RUNNING)
    fprintf(stderr, "phonebindctl: phonebindd is not running (org.phonebind1 is not on the "
                    "system bus)\n");
  else
    fprintf(stderr, "phonebindctl: %s\n",
            sd_bus_error_is_set(error) && error->message ? error->message : strerror(-r));
  return code;
}

static void print_json(json_t *json)
{
  json_dumpf(json, stdout, JSON_INDENT(2));
  putchar('\n');
  json_decref(json);
}

static void free_terminals(struct ctl_terminal *terminals, int count)
{
  for (int i = 0; i < count; i++)
    ctl_terminal_clear(&terminals[i]);
  free(terminals);
}

static int run_list(sd_bus *bus, const struct ctl_format *format)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  struct ctl_terminal *terminals = NULL;
  int count = 0, r = ctl_client_list(bus, &terminals, &count, &error);

  if (r < 0) {
    r = fail(r, &error);
    sd_bus_error_free(&error);
    return r;
  }
  if (format->json) {
    json_t *array = json_array();
    for (int i = 0; i < count; i++)
      json_array_append_new(array, ctl_terminal_json(&terminals[i], format));
    print_json(array);
  } else {
    ctl_print_table(stdout, terminals, count, format);
  }
  free_terminals(terminals, count);
  return CTL_EXIT_OK;
}

/* The object path TERMINAL names, or an exit code. */
static int resolve(sd_bus *bus, const char *wanted, char **out_path, struct ctl_terminal *out_info)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  struct ctl_terminal *terminals = NULL;
  int count = 0, index, r = ctl_client_list(bus, &terminals, &count, &error);

  if (r < 0) {
    r = fail(r, &error);
    sd_bus_error_free(&error);
    return r;
  }
  index = ctl_match_terminal(terminals, count, wanted);
  if (index < 0) {
    fprintf(stderr, "phonebindctl: %s \"%s\"\n",
            index == -2 ? "more than one terminal starts with" : "no attached terminal", wanted);
    free_terminals(terminals, count);
    return CTL_EXIT_NO_SUCH_TERMINAL;
  }
  *out_path = xstrdup(terminals[index].path);
  if (out_info) {
    *out_info = terminals[index];
    terminals[index] = (struct ctl_terminal){0};
  }
  free_terminals(terminals, count);
  return CTL_EXIT_OK;
}

static int run_info(sd_bus *bus, const char *wanted, const struct ctl_format *format)
{
  struct ctl_terminal terminal;
  char *path = NULL;
  int r = resolve(bus, wanted, &path, &terminal);

  if (r != CTL_EXIT_OK)
    return r;
  if (format->json)
    print_json(ctl_terminal_json(&terminal, format));
  else
    ctl_print_info(stdout, &terminal, format);
  ctl_terminal_clear(&terminal);
  free(path);
  return CTL_EXIT_OK;
}

static int run_manage(sd_bus *bus, const char *method, const char *wanted)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  char *path = NULL;
  int r = resolve(bus, wanted, &path, NULL);

  if (r != CTL_EXIT_OK)
    return r;
  r = ctl_client_manage(bus, method, path, &error);
  free(path);
  if (r < 0) {
    r = fail(r, &error);
    sd_bus_error_free(&error);
    return r;
  }
  return CTL_EXIT_OK;
}

static int run_status(sd_bus *bus, const struct ctl_format *format)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  struct ctl_status status = {0};
  int r = ctl_client_status(bus, &status, &error);

  if (r < 0) {
    if (format->json && ctl_exit_for(r, &error) == CTL_EXIT_NOT_RUNNING)
      print_json(json_pack("{s:b}", "running", 0));
    r = fail(r, &error);
    sd_bus_error_free(&error);
    ctl_status_clear(&status);
    return r;
  }
  if (format->json)
    print_json(json_pack("{s:b, s:s, s:s, s:s, s:i}", "running", 1, "version", status.version,
                         "account", status.account, "registry", status.registry, "attached",
                         status.attached));
  else
    printf("phonebindd: running\n   Version: %s\n   Account: %s\n  Registry: %s\n  Attached: "
           "%d phone%s\n",
           status.version, *status.account ? status.account : "(none yet)", status.registry,
           status.attached, status.attached == 1 ? "" : "s");
  ctl_status_clear(&status);
  return CTL_EXIT_OK;
}

static int run(const struct ctl_args *args)
{
  const struct ctl_format format = {.json = args->json, .full = args->full,
                                    .redact = args->redact};
  sd_bus *bus = NULL;
  int r = ctl_client_open(args->address, &bus);

  if (r < 0)
    return fail(r, &SD_BUS_ERROR_NULL);
  switch (args->command) {
  case CTL_LIST:
    r = run_list(bus, &format);
    break;
  case CTL_INFO:
    r = run_info(bus, args->terminal, &format);
    break;
  case CTL_FORGET:
    r = run_manage(bus, "Forget", args->terminal);
    break;
  case CTL_RETRY:
    r = run_manage(bus, "Retry", args->terminal);
    break;
  case CTL_MONITOR:
    r = ctl_client_monitor(bus, &format);
    r = r < 0 ? fail(r, &SD_BUS_ERROR_NULL) : CTL_EXIT_OK;
    break;
  default:
    r = run_status(bus, &format);
  }
  sd_bus_flush_close_unref(bus);
  return r;
}

int main(int argc, char **argv)
{
  struct ctl_args args;
  const char *error;

  if (ctl_args_parse(argc, argv, &args, &error) < 0) {
    fprintf(stderr, "phonebindctl: %s\nTry 'phonebindctl --help'.\n", error);
    return CTL_EXIT_USAGE;
  }
  if (args.command == CTL_HELP) {
    fputs(ctl_usage, stdout);
    return CTL_EXIT_OK;
  }
  if (args.command == CTL_VERSION) {
    printf("phonebindctl %s\n", PHONEBIND_VERSION);
    return CTL_EXIT_OK;
  }
  return run(&args);
}
