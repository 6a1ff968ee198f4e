/* The sanitiser of strings from a phone's USB descriptors. Checked: its
 * output is valid UTF-8 with no control character, DEL, C1 control or
 * bidirectional override or isolate left. */
#include "fuzz_input.h"

#include "untrusted_text.h"

#include <stdbool.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool forbidden(uint32_t cp)
{
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *input = fuzz_string(data, size), *shown = text_sanitize(input);

  for (const char *p = shown; *p;) {
    uint32_t cp;
    size_t n = utf8_next(p, &cp);
    if (n == 0 || forbidden(cp) || (n == 1 && (unsigned char)*p >= 0x80))
      abort(); /* a control, an override, or a byte that is not UTF-8 */
    p += n;
  }
  free(shown);
  free(input);
  return 0;
}
