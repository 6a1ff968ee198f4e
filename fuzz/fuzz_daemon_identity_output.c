/* What an identity helper prints, as the daemon reads it
 * (identity_output_imei). Checked: an IMEI comes back only as 15 digits
 * that pass the Luhn check, and never anything past the first line. */
#include "fuzz_input.h"

#include "identity_helper.h"
#include "terminal_id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *output = fuzz_string(data, size);
  const char *imei = identity_output_imei(output, size);

  if (imei && (imei != output || !terminal_imei_is_valid(imei) || strpbrk(imei, "\r\n")))
    abort();
  free(output);
  return 0;
}
