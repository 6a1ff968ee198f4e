/* Releasing phonebindctl's records; see records.h. */
#include "records.h"

#include <stdlib.h>
#include <string.h>

void ctl_terminal_clear(struct ctl_terminal *terminal)
{
  free(terminal->path);
  free(terminal->id);
  free(terminal->vendor);
  free(terminal->model);
  free(terminal->serial);
  free(terminal->decision);
  free(terminal->reason);
  *terminal = (struct ctl_terminal){0};
}

void ctl_terminals_free(struct ctl_terminal *terminals, size_t count)
{
  for (size_t i = 0; i < count; i++)
    ctl_terminal_clear(&terminals[i]);
  free(terminals);
}

void ctl_status_clear(struct ctl_status *status)
{
  free(status->version);
  free(status->account);
  free(status->account_state);
  free(status->registry);
  *status = (struct ctl_status){0};
}

const char *ctl_handle_of(const char *path)
{
  const char *slash = strrchr(path, '/');

  return slash ? slash + 1 : path;
}

static int compare_ids(const void *a, const void *b)
{
  return strcmp(((const struct ctl_terminal *)a)->id, ((const struct ctl_terminal *)b)->id);
}

void ctl_terminals_sort(struct ctl_terminal *terminals, size_t count)
{
  if (count > 1)
    qsort(terminals, count, sizeof *terminals, compare_ids);
}
