/* Replays a fuzz target's corpus without libFuzzer: every file of the
 * directories named on the command line, in name order, through
 * LLVMFuzzerTestOneInput. A crash, a sanitizer report or an abort() of
 * the target's own checks fails the test. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *read_file(const char *path, size_t *out_size)
{
  FILE *f = fopen(path, "rb");
  uint8_t *data = NULL;
  long size;

  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
    data = malloc((size_t)size + 1);
    if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
      free(data);
      data = NULL;
    }
    *out_size = (size_t)size;
  }
  fclose(f);
  return data;
}

static int replay_dir(const char *dir)
{
  struct dirent **entries;
  int n = scandir(dir, &entries, NULL, alphasort), replayed = 0;

  if (n < 0) {
    perror(dir);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    char path[4096];
    size_t size = 0;
    uint8_t *data;
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, entries[i]->d_name);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (data = read_file(path, &size))) {
      LLVMFuzzerTestOneInput(data, size);
      free(data);
      replayed++;
    }
    free(entries[i]);
  }
  free(entries);
  return replayed;
}

int main(int argc, char **argv)
{
  int total = 0;

  for (int i = 1; i < argc; i++) {
    int n = replay_dir(argv[i]);
    if (n < 0)
      return 1;
    total += n;
  }
  printf("replayed %d inputs\n", total);
  return total > 0 ? 0 : 1; /* an empty corpus tests nothing */
}
