/* The router as a table: every route, wrong methods (405), unknown paths
 * (404), and identifiers that are malformed, too long, or outside the
 * contract's grammar (400: a space, a placeholder serial, an upper-case
 * vendor, a bad Luhn digit, no prefix at all). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "router.h"

static void test_table(void **state)
{
  static const struct {
    enum http_method method;
    const char *path;
    enum route_verdict verdict;
    enum route route;
    const char *id;
  } cases[] = {
    {METHOD_POST, "/v1/accounts", ROUTE_OK, ROUTE_ACCOUNTS, ""},
    {METHOD_GET, "/v1/accounts", ROUTE_BAD_METHOD, ROUTE_ACCOUNTS, ""},
    {METHOD_GET, "/healthz", ROUTE_OK, ROUTE_HEALTHZ, ""},
    {METHOD_GET, "/metrics", ROUTE_OK, ROUTE_METRICS, ""},
    {METHOD_GET, "/v1/info", ROUTE_OK, ROUTE_INFO, ""},
    {METHOD_POST, "/v1/info", ROUTE_BAD_METHOD, ROUTE_INFO, ""},
    {METHOD_GET, "/v1/terminals/usb:18d1:ABC", ROUTE_OK, ROUTE_TERMINAL, "usb:18d1:ABC"},
    {METHOD_GET, "/v1/terminals/usb%3A18d1%3AA%2FB", ROUTE_OK, ROUTE_TERMINAL, "usb:18d1:A/B"},
    {METHOD_PUT, "/v1/terminals/usb:18d1:ABC", ROUTE_BAD_METHOD, ROUTE_TERMINAL, ""},
    {METHOD_PUT, "/v1/terminals/imei:490154203237518/binding", ROUTE_OK, ROUTE_BINDING,
     "imei:490154203237518"},
    {METHOD_DELETE, "/v1/terminals/usb:04e8:RF8N20/binding", ROUTE_OK, ROUTE_BINDING,
     "usb:04e8:RF8N20"},
    {METHOD_GET, "/v1/terminals/usb:05ac:00008030-001A2D3C3E0B802E", ROUTE_OK, ROUTE_TERMINAL,
     "usb:05ac:00008030-001A2D3C3E0B802E"},
    {METHOD_GET, "/v1/terminals/usb:18d1:R58%20M41", ROUTE_OK, ROUTE_TERMINAL, "usb:18d1:R58 M41"},
    {METHOD_DELETE, "/v1/terminals/x/binding", ROUTE_BAD_ID, ROUTE_BINDING, ""},
    {METHOD_GET, "/v1/terminals/%20", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/usb:18D1:ABC", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/USB:18d1:ABC", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/usb:18d:ABC", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/usb:18g1:ABC", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/usb:18d1", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/usb:18d1:", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/usb:18d1:unknown", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/usb:18d1:0123456789", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/usb:18d1:A,B", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/usb:18d1:%20ABC", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/usb:18d1:ABC%20", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/usb:18d1:A%09B", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/usb:18d1:A%C3%A9", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/imei:490154203237519", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/imei:49015420323751", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/imei:000000000000000", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/imei:%20490154203237518", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/serial:R58M41", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/x/binding", ROUTE_BAD_METHOD, ROUTE_BINDING, ""},
    {METHOD_OTHER, "/healthz", ROUTE_BAD_METHOD, ROUTE_HEALTHZ, ""},
    {METHOD_GET, "/", ROUTE_NOT_FOUND, ROUTE_NONE, ""},
    {METHOD_GET, "/v1/terminals/", ROUTE_NOT_FOUND, ROUTE_NONE, ""},
    {METHOD_PUT, "/v1/terminals//binding", ROUTE_NOT_FOUND, ROUTE_NONE, ""},
    {METHOD_PUT, "/v1/terminals/x/bindings", ROUTE_NOT_FOUND, ROUTE_NONE, ""},
    {METHOD_PUT, "/v1/terminals/x/binding/", ROUTE_NOT_FOUND, ROUTE_NONE, ""},
    {METHOD_GET, "/v1/terminals/a%zz", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/a%00b", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/terminals/a%0Ab", ROUTE_BAD_ID, ROUTE_TERMINAL, ""},
    {METHOD_GET, "/v1/accountsX", ROUTE_NOT_FOUND, ROUTE_NONE, ""},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    struct route_match match;
    enum route_verdict verdict =
      router_match(cases[i].method, cases[i].path, strlen(cases[i].path), &match);
    if (verdict != cases[i].verdict || match.route != cases[i].route ||
        (verdict == ROUTE_OK && strcmp(match.terminal_id, cases[i].id) != 0))
      fail_msg("case %zu (%s): verdict %d route %d id \"%s\"", i, cases[i].path, verdict,
               match.route, match.terminal_id);
  }
}

/* The longest usable serial (126 bytes) is accepted, one more is not;
 * "ab" repeated is no placeholder. */
static void test_id_length_limit(void **state)
{
  char path[400] = "/v1/terminals/usb:18d1:";
  size_t prefix = strlen(path);
  struct route_match match;
  (void)state;
  for (size_t i = 0; i < TERMINAL_SERIAL_MAX; i++)
    path[prefix + i] = i % 2 ? 'b' : 'a';
  path[prefix + TERMINAL_SERIAL_MAX] = '\0';
  assert_int_equal(router_match(METHOD_GET, path, strlen(path), &match), ROUTE_OK);
  assert_int_equal(match.terminal_id_len, strlen("usb:18d1:") + TERMINAL_SERIAL_MAX);
  strcat(path, "a");
  assert_int_equal(router_match(METHOD_GET, path, strlen(path), &match), ROUTE_BAD_ID);
}

static void test_templates_never_raw(void **state)
{
  (void)state;
  assert_string_equal(router_template(ROUTE_TERMINAL), "/v1/terminals/{id}");
  assert_string_equal(router_template(ROUTE_BINDING), "/v1/terminals/{id}/binding");
  assert_string_equal(router_allowed_methods(ROUTE_BINDING), "PUT, DELETE");
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_table),
                                     cmocka_unit_test(test_id_length_limit),
                                     cmocka_unit_test(test_templates_never_raw)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
