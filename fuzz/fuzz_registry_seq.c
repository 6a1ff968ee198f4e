/* Phonebind-Seq as the registry reads it (server/fence.c). Checked: a
 * value it takes is all decimal digits, 1 to 2^64 - 1, and the number
 * they say. */
#include "fuzz_input.h"

#include "fence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = fuzz_string(data, size), *end;
  uint64_t seq;

  if (fence_parse_seq(text, &seq) == 0) {
    if (seq == 0 || text[strspn(text, "0123456789")] != '\0' || strtoull(text, &end, 10) != seq)
      abort();
  }
  free(text);
  return 0;
}
