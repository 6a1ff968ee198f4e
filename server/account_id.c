/* Random shadow account identifiers; see account_id.h. */
#include "account_id.h"

#include <stdio.h>

static account_id_source custom_source;

int account_id_generate(char out[ACCOUNT_ID_MAX])
{
  uint8_t random[12];
  char hex[2 * sizeof random + 1];
  int r;

  if (custom_source)
    return custom_source(out);
  r = hash_random_bytes(random, sizeof random);
  if (r < 0)
    return r;
  hash_hex_encode(random, sizeof random, hex);
  snprintf(out, ACCOUNT_ID_MAX, "sa-%s", hex);
  return 0;
}

void account_id_set_source(account_id_source source)
{
  custom_source = source;
}
