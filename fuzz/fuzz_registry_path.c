/* The request target as the registry routes it (server/router.c, with
 * lib/pctenc.c's decoding and lib/terminal_id.c's grammar): the first
 * byte picks the method, the rest is the path. Checked: a terminal route
 * always yields an identifier the grammar accepts, and percent-encoding
 * what was decoded decodes to the same again. */
#include "fuzz_input.h"

#include "pctenc.h"
#include "router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct route_match *match)
{
  char *encoded = pct_encode(match->terminal_id), again[TERMINAL_ID_MAX + 1];
  size_t len;

  if (pct_decode(encoded, strlen(encoded), again, sizeof again, &len) < 0 ||
      len != match->terminal_id_len || memcmp(again, match->terminal_id, len) != 0)
    abort();
  free(encoded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct route_match match;
  enum route_verdict verdict;

  if (size < 1)
    return 0;
  verdict = router_match((enum http_method)(data[0] % (METHOD_OTHER + 1)), (const char *)data + 1,
                         size - 1, &match);
  if (verdict == ROUTE_OK && (match.route == ROUTE_TERMINAL || match.route == ROUTE_BINDING)) {
    if (!terminal_id_is_acceptable(match.terminal_id, match.terminal_id_len))
      abort();
    check_round_trip(&match);
  }
  router_template(match.route);
  return 0;
}
