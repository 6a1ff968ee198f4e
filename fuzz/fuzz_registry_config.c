/* registry.conf as the registry reads it (lib/ini.c, lib/cliconf.c,
 * server/config.c): the input is the file, handed over as a memfd. */
#include "fuzz_input.h"

#include "config.h"
#include "log.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct registry_config config;
  char path[64], program[] = "phonebind-registry", flag[] = "--config";
  char *argv[] = {program, flag, path, NULL};
  int fd = memfd_create("registry.conf", MFD_CLOEXEC);

  if (fd < 0 || write(fd, data, size) != (ssize_t)size)
    abort();
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  log_set_max_level(-1);
  registry_config_parse(3, argv, &config);
  registry_config_clear(&config);
  close(fd);
  return 0;
}
