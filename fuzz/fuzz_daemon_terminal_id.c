/* udev properties → terminal identifier: a phone's vendor, serial and the
 * helper's IMEI (one per line, after the rule: "s" serial or "i" imei)
 * through the daemon's choice (identify.c, lib/terminal_id.c). Checked:
 * whatever is chosen is what the registry accepts, and a phone with an
 * identifier never has one for a serial that is not usable. */
#include "fuzz_input.h"

#include "identify.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *input = fuzz_string(data, size), *cursor = input, id[TERMINAL_ID_BUF];
  enum terminal_id_rule rule =
    fuzz_field(&cursor)[0] == 'i' ? TERMINAL_ID_RULE_IMEI : TERMINAL_ID_RULE_SERIAL;
  struct phone_info info = {.vendor_id = fuzz_field(&cursor), .serial = fuzz_field(&cursor)};
  char *imei = fuzz_field(&cursor);
  enum terminal_id_kind kind;

  log_set_max_level(-1);
  identify_needs_imei(rule, &info);
  kind = identify_choose(rule, &info, *imei ? imei : NULL, id, sizeof id);
  if (kind != TERMINAL_ID_NONE && !terminal_id_is_acceptable(id, strlen(id)))
    abort(); /* a daemon would form an id the registry refuses */
  if (kind == TERMINAL_ID_USB && !terminal_serial_is_usable(info.serial))
    abort();
  if (kind == TERMINAL_ID_NONE && id[0])
    abort();
  terminal_id_is_acceptable(input, size);
  free(input);
  return 0;
}
